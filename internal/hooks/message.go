package hooks

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxMessageBytes bounds the message of a run kept in status.
const MaxMessageBytes = 1536

// excerptBytes bounds the part of a webhook's answer quoted in a message.
const excerptBytes = 256

// oneLine makes text from outside (an HTTP body, a pod's log) fit for one
// line of status: invalid UTF-8 and control characters become spaces, runs of
// white space become one space, and the ends are trimmed.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut with
// an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// tail keeps the last n bytes of s, on a rune boundary, marking the cut.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := len(s) - n + len(mark)
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	return mark + s[cut:]
}
