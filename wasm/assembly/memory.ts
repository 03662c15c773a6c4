/** @file Raw memory for the kernels' callers: JavaScript allocates every buffer a kernel reads or writes (blocks,
 * Gram matrices, rings, panels) through these two functions and frees it when its owner dies. Blocks come from the
 * runtime's TLSF allocator, 16-byte aligned, never moved; the module holds no managed objects, so no GC runs. */

/** A block of `bytes` bytes (contents undefined), 16-byte aligned. May grow the memory, which detaches every
 * ArrayBuffer view JavaScript holds on it. */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes);
}

/** Returns a block from `alloc` to the allocator. */
export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Zeroes `bytes` bytes at `ptr`. */
export function zero(ptr: usize, bytes: usize): void {
  memory.fill(ptr, 0, bytes);
}
