// Package tracee holds what rewind knows how to do to a task beyond raw
// ptrace: spawn it seized on one CPU (spawn), run a syscall inside it (rr
// calls these remote syscalls: remote), read its address-space layout and
// /proc status (maps, proc), step it through a syscall (syscallstep), patch
// or hide its vDSO (vdso), fix up clone arguments (clone), and keep the
// futex and rdrand state record and replay share. Every function here must
// run on the tracer thread (see package ptrace) with the task stopped.
package tracee
