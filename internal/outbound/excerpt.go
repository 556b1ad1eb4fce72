package outbound

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Excerpt makes text from outside (an HTTP body, a pod's log) fit to quote
// in one line of status: invalid UTF-8, control and unprintable characters
// become spaces, runs of white space become one, and the result is cut to at
// most n bytes on a rune boundary, an ellipsis marking the cut.
func Excerpt(s string, n int) string {
	return Truncate(OneLine(s), n)
}

// OneLine replaces invalid UTF-8, control and unprintable characters of s
// with spaces, collapses runs of white space and trims the ends.
func OneLine(s string) string {
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// Truncate cuts s to at most n bytes on a rune boundary, marking the cut
// with an ellipsis.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	if cut <= 0 {
		return ""
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
