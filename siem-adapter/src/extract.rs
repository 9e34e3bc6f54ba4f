//! Raw JSON lines → the model's fields: scorer-core's [`scorer_core::lines`]
//! reader (shared with the browser), seen by the engines as an [`EventBatch`].

pub use scorer_core::lines::*;

use crate::engine::EventBatch;
use scorer_core::Field;

impl EventBatch for LineBatch {
    fn len(&self) -> usize {
        LineBatch::len(self)
    }
    fn field(&self, row: usize, col: usize) -> Field<'_> {
        LineBatch::field(self, row, col)
    }
}
