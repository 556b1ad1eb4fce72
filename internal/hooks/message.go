package hooks

import (
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/outbound"
)

// MaxMessageBytes bounds the message of a run kept in status.
const MaxMessageBytes = 1536

// excerptBytes bounds the part of a webhook's answer quoted in a message.
const excerptBytes = 256

// oneLine makes text from outside (an HTTP body, a pod's log) fit for one
// line of status (see outbound.OneLine).
func oneLine(s string) string { return outbound.OneLine(s) }

// truncate cuts s to at most n bytes on a rune boundary, marking the cut with
// an ellipsis.
func truncate(s string, n int) string { return outbound.Truncate(s, n) }

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
