package main

import (
	"errors"
	"strings"
)

// takeValue handles "-o DIR", "-oDIR", "--opt DIR" and "--opt=DIR".
func takeValue(args []string, i int, short, long string) (string, int, bool, error) {
	a := args[i]
	switch {
	case a == short || a == long:
		if i+1 >= len(args) {
			return "", i, true, fail(2, "%s needs a value", a)
		}
		return args[i+1], i + 1, true, nil
	case long != "" && strings.HasPrefix(a, long+"="):
		return a[len(long)+1:], i, true, nil
	case short != "" && strings.HasPrefix(a, short) && len(a) > len(short) && !strings.HasPrefix(a, "--"):
		return a[len(short):], i, true, nil
	}
	return "", i, false, nil
}

// errHelp is a -h or --help among a command's options (after option
// values, which helpRequested cannot tell apart).
var errHelp = errors.New("help requested")
