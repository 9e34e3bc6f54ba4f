//! The chunk buffers: a body and a reply of tens of MB each, reserved once
//! per chunk size and reused.
//!
//! Fresh anonymous memory costs a page fault per 4 KiB page on first touch:
//! about 9,000 faults for a 16 MB body and its 20 MB reply, a few per cent
//! of a chunk's time, all of it before the windows can overlap. On Linux a
//! large reservation is therefore advised as transparent huge pages
//! (`MADV_HUGEPAGE`; the kernel default is `madvise`), which fault 2 MiB at
//! a time. The advice changes only how pages are backed, never their
//! contents; where the kernel declines it, nothing changes.

/// Reservations at least this large are advised as huge pages.
const HUGE_FROM: usize = 4 << 20;

/// Make room in `buf` for `additional` more bytes, advising the new room as
/// huge pages when it is large.
pub fn reserve(buf: &mut Vec<u8>, additional: usize) {
    buf.reserve(additional);
    if additional >= HUGE_FROM {
        advise_huge(buf);
    }
}

/// Advise the whole 2 MiB pages inside `buf`'s spare capacity.
fn advise_huge(buf: &mut Vec<u8>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let spare = buf.spare_capacity_mut();
        let start = spare.as_mut_ptr() as usize;
        let first = start.next_multiple_of(HUGE);
        let end = (start + spare.len()) / HUGE * HUGE;
        if end > first {
            // SAFETY: [first, end) lies inside this Vec's allocation, which
            // outlives the call; MADV_HUGEPAGE reads and writes no memory and
            // only changes how the range's pages will be backed.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}

#[cfg(test)]
mod tests {
    #[test]
    fn reserving_keeps_the_contents_and_makes_the_room() {
        let mut buf = b"kept".to_vec();
        super::reserve(&mut buf, 9 << 20);
        assert!(buf.capacity() >= 4 + (9 << 20));
        assert_eq!(buf, b"kept");
        buf.resize(buf.capacity(), 7);
        assert!(buf[4..].iter().all(|&b| b == 7));
    }
}
