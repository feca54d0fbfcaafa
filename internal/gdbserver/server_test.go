package gdbserver

import "testing"

func TestXfer(t *testing.T) {
	data := "0123456789"
	cases := map[string]string{
		"0,4":                 "m0123",
		"8,4":                 "l89",
		"a,4":                 "l",
		"ff,1":                "l",
		"2,ffffffffffffffff":  "l23456789", // offset + length overflows
		"0,a":                 "l0123456789",
		"1,fffffffffffffffe":  "l123456789",
		"zz,1":                "E01",
		"1":                   "E01",
		"ffffffffffffffff,10": "l",
	}
	for in, want := range cases {
		if got := xfer(data, in); got != want {
			t.Errorf("xfer(%q) = %q, want %q", in, got, want)
		}
	}
}
