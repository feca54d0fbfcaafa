// Package arch holds what rewind knows of the x86-64 machine and of the
// Linux ABI on it, in one place: the layout of the registers the kernel
// gives ptrace (and the order gdb numbers them in), the debug registers,
// the signal frame, the few instructions rewind decodes or plants, and the
// siginfo layout. The rest of rewind uses these names instead of spelling
// offsets and opcodes out.
package arch
