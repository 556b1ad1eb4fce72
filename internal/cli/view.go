package cli

import (
	"strings"
	"time"
)

// The live views (`status --watch`, Watch) are polling shells around pure
// code: each poll gathers a snapshot, and a screen turns the sequence of
// snapshots into what to write. On a terminal that is the whole view,
// redrawn in place when it changed; in a log it is one line (or block) per
// change, never repeating what was already written.

// snapshot is what one poll saw.
type snapshot struct {
	// header is extra text for the top of the view, from the caller.
	header string
	// releases shown, in display order.
	releases []release
	// events about those releases, oldest first.
	events []event
	// eventsNote says why events are missing, when they are.
	eventsNote string
}

// version changes whenever something a view shows may have changed: the
// header, a release's resourceVersion, the set of events.
func (s snapshot) version() string {
	var b strings.Builder
	b.WriteString(s.header)
	for _, r := range s.releases {
		b.WriteString("\x00" + r.String() + "@" + r.object().GetResourceVersion())
	}
	for _, e := range s.events {
		b.WriteString("\x00" + e.key)
	}
	b.WriteString("\x00" + s.eventsNote)
	return b.String()
}

// view renders snapshots one way (one release in detail, or a board).
type view interface {
	// frame is the whole view, for a terminal.
	frame(s snapshot, now time.Time) string
	// changes is what a log gets when cur follows prev (nil before the
	// first poll): lines about what is new, "" when nothing changed.
	changes(prev *snapshot, cur snapshot, now time.Time) string
}

// screen turns successive snapshots into what to write. It does no I/O.
type screen struct {
	view     view
	terminal bool
	prev     *snapshot
	drawn    string
}

// update returns what to write for the latest snapshot: on a terminal the
// redrawn frame, only when it differs from the one on screen; otherwise the
// view's changes.
func (s *screen) update(cur snapshot, now time.Time) string {
	prev := s.prev
	s.prev = &cur
	if !s.terminal {
		return s.view.changes(prev, cur, now)
	}
	if prev != nil && prev.version() == cur.version() {
		return ""
	}
	f := s.view.frame(cur, now)
	if f == s.drawn {
		return ""
	}
	first := s.drawn == ""
	s.drawn = f
	return redraw(f, first)
}

// Terminal control sequences (ANSI).
const (
	cursorHome     = "\x1b[H"
	clearScreen    = "\x1b[2J"
	clearLineRest  = "\x1b[K"
	clearBelow     = "\x1b[J"
	clearAndHome   = cursorHome + clearScreen
	redrawLineTail = clearLineRest + "\n"
)

// redraw paints frame over the previous one from the top left: each line
// clears what is left of the old line after it, and what remains below the
// frame is cleared at the end. Only the first frame clears the whole
// screen; later ones never blank it, so a redraw does not flicker.
func redraw(frame string, first bool) string {
	var b strings.Builder
	if first {
		b.WriteString(clearAndHome)
	} else {
		b.WriteString(cursorHome)
	}
	b.WriteString(strings.ReplaceAll(frame, "\n", redrawLineTail))
	b.WriteString(clearBelow)
	return b.String()
}

// stamp prefixes each line with the time of day and ends it.
func stamp(now time.Time, lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(now.Format(clock) + " " + l + "\n")
	}
	return b.String()
}
