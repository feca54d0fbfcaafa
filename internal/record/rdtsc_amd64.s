#include "textflag.h"

// func rdtsc() (lo, hi uint32)
TEXT ·rdtsc(SB),NOSPLIT,$0-8
	RDTSC
	MOVL AX, lo+0(FP)
	MOVL DX, hi+4(FP)
	RET

// func rdtscp() (lo, hi, aux uint32)
TEXT ·rdtscp(SB),NOSPLIT,$0-12
	BYTE $0x0f; BYTE $0x01; BYTE $0xf9
	MOVL AX, lo+0(FP)
	MOVL DX, hi+4(FP)
	MOVL CX, aux+8(FP)
	RET
