// Hand-written mirrors of the seed's privcmd records, as a 64-bit-only crate writes them:
// fixed 64-bit fields where C has pointers and size_t. Right on x86_64 and aarch64, wrong
// on every 32-bit target (the seed case: a 32-bit caller's buffer array is misread).
use core::ffi::c_void;

#[repr(C)]
pub struct privcmd_dm_op_buf {
    pub uptr: u64,
    pub size: u64,
}

// abiscope: struct privcmd_dm_op
#[repr(C)]
pub struct PrivcmdDmOp {
    pub dom: u16,
    pub num: u16,
    pub ubufs: *const privcmd_dm_op_buf,
}

// The portable form: the same on every target.
// abiscope: struct privcmd_dm_op_buf
#[repr(C)]
pub struct PrivcmdDmOpBufPortable {
    pub uptr: *mut c_void,
    pub size: usize,
}
