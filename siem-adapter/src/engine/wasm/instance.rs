//! One sandboxed instance: a store with the memory cap and epoch deadline,
//! the scorer's exports, the ABI handshake, and checked access to guest
//! memory. Failures of wasmtime become [`EngineError`]s here (`classify`).

use std::time::Duration;

use wasmtime::{
    Engine as WtEngine, Instance, Linker, Memory, Module, Store, StoreLimits, StoreLimitsBuilder,
    Trap, TypedFunc,
};

use super::{EngineError, WasmLimits, ABI_VERSION};

/// The scorer's exports.
pub(super) struct Exports {
    pub(super) memory: Memory,
    pub(super) reserve: TypedFunc<u32, u32>,
    pub(super) load: TypedFunc<(u32, u32, u32, u32), i32>,
    pub(super) describe: TypedFunc<i32, i32>,
    pub(super) set_threshold: TypedFunc<(i32, f64), i32>,
    pub(super) score: TypedFunc<(i32, u32, u32, u32), i32>,
    /// Drift exports (absent from hand-written test modules).
    pub(super) track_drift: Option<TypedFunc<(i32, i32), i32>>,
    pub(super) take_drift: Option<TypedFunc<i32, i32>>,
    /// Session scoring (absent from older modules).
    pub(super) score_mouse: Option<TypedFunc<(i32, u32, u32), i32>>,
    pub(super) out_ptr: TypedFunc<(), u32>,
    pub(super) out_len: TypedFunc<(), u32>,
    pub(super) msg_ptr: TypedFunc<(), u32>,
    pub(super) msg_len: TypedFunc<(), u32>,
}

/// A wasmtime failure as an [`EngineError`]: the epoch interrupt is a
/// timeout, a refused memory grow the memory cap, anything else a trap.
pub(super) fn classify(e: wasmtime::Error, limits: &WasmLimits, bound: Duration) -> EngineError {
    if let Some(t) = e.downcast_ref::<Trap>() {
        if *t == Trap::Interrupt {
            return EngineError::Timeout(bound.as_millis() as u64);
        }
    }
    let text = format!("{e:#}");
    if text.contains("grow") || text.contains("memory") && text.contains("limit") {
        return EngineError::MemoryLimit(limits.memory_bytes);
    }
    EngineError::Trap(text.lines().next().unwrap_or("").to_string())
}

/// A new store and instance of `module` under `limits`, its exports, and
/// the ABI version handshake.
pub(super) fn instantiate(
    engine: &WtEngine,
    module: &Module,
    limits: &WasmLimits,
) -> Result<(Store<StoreLimits>, Exports), EngineError> {
    let store_limits = StoreLimitsBuilder::new()
        .memory_size(limits.memory_bytes)
        .instances(1)
        .memories(1)
        .tables(4)
        .trap_on_grow_failure(true)
        .build();
    let mut store = Store::new(engine, store_limits);
    store.limiter(|l| l);
    store.epoch_deadline_trap();
    store.set_epoch_deadline(u64::MAX / 2);
    let linker: Linker<StoreLimits> = Linker::new(engine);
    let instance: Instance = linker
        .instantiate(&mut store, module)
        .map_err(|e| EngineError::Module(format!("{e:#}")))?;
    let m = |e: wasmtime::Error| EngineError::Module(format!("{e:#}"));
    let ex = Exports {
        memory: instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| EngineError::Module("no exported memory".into()))?,
        reserve: instance
            .get_typed_func(&mut store, "rs_reserve")
            .map_err(m)?,
        load: instance.get_typed_func(&mut store, "rs_load").map_err(m)?,
        describe: instance
            .get_typed_func(&mut store, "rs_describe")
            .map_err(m)?,
        set_threshold: instance
            .get_typed_func(&mut store, "rs_set_threshold")
            .map_err(m)?,
        score: instance.get_typed_func(&mut store, "rs_score").map_err(m)?,
        track_drift: instance.get_typed_func(&mut store, "rs_track_drift").ok(),
        take_drift: instance.get_typed_func(&mut store, "rs_take_drift").ok(),
        score_mouse: instance.get_typed_func(&mut store, "rs_score_mouse").ok(),
        out_ptr: instance
            .get_typed_func(&mut store, "rs_output_ptr")
            .map_err(m)?,
        out_len: instance
            .get_typed_func(&mut store, "rs_output_len")
            .map_err(m)?,
        msg_ptr: instance
            .get_typed_func(&mut store, "rs_message_ptr")
            .map_err(m)?,
        msg_len: instance
            .get_typed_func(&mut store, "rs_message_len")
            .map_err(m)?,
    };
    let version: TypedFunc<(), u32> = instance
        .get_typed_func(&mut store, "rs_abi_version")
        .map_err(m)?;
    match version.call(&mut store, ()) {
        Ok(ABI_VERSION) => Ok((store, ex)),
        Ok(v) => Err(EngineError::Module(format!(
            "scorer ABI version {v}, this host speaks {ABI_VERSION}"
        ))),
        Err(e) => Err(EngineError::Module(format!("{e:#}"))),
    }
}

/// A copy of guest memory `ptr..ptr + len`, checked.
pub(super) fn read(
    store: &Store<StoreLimits>,
    memory: &Memory,
    ptr: u32,
    len: u32,
) -> Result<Vec<u8>, EngineError> {
    memory
        .data(store)
        .get(ptr as usize..ptr as usize + len as usize)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            EngineError::Module("the scorer returned a buffer outside its memory".into())
        })
}

/// Guest memory `ptr..ptr + len`, checked.
pub(super) fn guest_range<'a>(
    memory: &Memory,
    store: &'a mut Store<StoreLimits>,
    ptr: u32,
    len: usize,
) -> Result<&'a mut [u8], EngineError> {
    memory
        .data_mut(store)
        .get_mut(ptr as usize..ptr as usize + len)
        .ok_or_else(|| {
            EngineError::Module("the scorer's input buffer lies outside its memory".into())
        })
}
