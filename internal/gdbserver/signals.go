package gdbserver

// gdbSignal converts a Linux signal number to gdb's own numbering, which the
// remote protocol uses (T stop replies, QPassSignals): it follows the old
// BSD order (SIGUSR1 is 30, SIGCHLD 20, SIGURG 16, ...).
func gdbSignal(linux int) int {
	if g, ok := linuxToGdb[linux]; ok {
		return g
	}
	if linux >= 34 && linux <= 64 {
		return linux - 34 + 46 // GDB_SIGNAL_REALTIME_34 is 46
	}
	return 143 // GDB_SIGNAL_UNKNOWN
}

var linuxToGdb = map[int]int{
	1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 10, 8: 8, 9: 9, 10: 30,
	11: 11, 12: 31, 13: 13, 14: 14, 15: 15, 17: 20, 18: 19, 19: 17, 20: 18,
	21: 21, 22: 22, 23: 16, 24: 24, 25: 25, 26: 26, 27: 27, 28: 28, 29: 23,
	30: 32, 31: 12, 32: 45,
}
