package rollout

import (
	"fmt"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// commandSet is what one machine does for each manual command. runCommand
// applies the rules both kinds share before it hands a command over, so
// that each machine writes only what its kind does differently.
type commandSet interface {
	// inFlight reports whether a revision is released (or was rolled back
	// and awaits a new revision or a retry).
	inFlight() bool
	// revision is the revision in flight.
	revision() string
	// targetRevision is the revision the target's template is at.
	targetRevision() string
	// abortCommand rolls the release back and says where traffic is.
	abortCommand(c PendingCommand) string
	pause() (string, bool)
	resume() (string, bool)
	// promote handles promote, promote-full and promote-override.
	promote(c PendingCommand) (string, bool)
	// retry starts the rolled-back revision again, once runCommand checked
	// that one was rolled back and the target still holds it.
	retry() (string, bool)
}

// applyCommands carries out each pending manual command once, abort first.
// Why compare name and ID with status.commands: the annotations stay on the
// object, and a replay must not promote twice.
func (r *release) applyCommands(pending []PendingCommand, k commandSet) {
	for _, c := range pendingCommands(pending, r.rs.Commands) {
		msg, applied := runCommand(k, r.rs, c)
		r.noteCommand(c, msg, applied)
	}
}

// refuseCommands answers every pending command while the release is blocked
// (its target or route missing): nothing can be carried out, and a command
// left pending would fire much later on whatever comes back, so each is
// recorded as not carried out, with why.
func (r *release) refuseCommands(pending []PendingCommand, why string) {
	for _, c := range pendingCommands(pending, r.rs.Commands) {
		r.noteCommand(c, "not carried out, nothing changed: "+why+"; send it again once that is fixed", false)
	}
}

// noteCommand records a command in status and says what came of it: applied
// commands go to the audit trail, refused ones are an event.
func (r *release) noteCommand(c PendingCommand, msg string, applied bool) {
	rec := commandRecord(c, r.now, msg)
	r.rs.LastCommand = &rec
	r.rs.Commands = putCommand(r.rs.Commands, rec)
	text := fmt.Sprintf("%s: %s", commandText(c), msg)
	if applied {
		r.record(EventNormal, EventCommandApplied, text)
		return
	}
	r.emit(EventNormal, EventCommandIgnored, text)
}

// runCommand runs one command and says what it did; applied is false when it
// did nothing, and the message then says why. The rules of both kinds: only
// retry acts on a rolled-back revision, and only when the target still holds
// it; nothing acts when no release is in flight; an abort applies at any
// point of a release.
func runCommand(k commandSet, rs *v1alpha1.ReleaseStatus, c PendingCommand) (string, bool) {
	if c.Name == v1alpha1.CommandRetry {
		rev := k.revision()
		switch {
		case rs.AbortedAt == nil || !k.inFlight():
			return "nothing was rolled back", false
		case k.targetRevision() != rev:
			return fmt.Sprintf("the target no longer holds revision %s", rev), false
		}
		return k.retry()
	}
	if !k.inFlight() {
		return "no release in flight", false
	}
	if rs.AbortedAt != nil {
		return fmt.Sprintf("revision %s was rolled back; push a new revision or retry", k.revision()), false
	}
	switch c.Name {
	case v1alpha1.CommandAbort:
		return k.abortCommand(c), true
	case v1alpha1.CommandPause:
		return k.pause()
	case v1alpha1.CommandResume:
		return k.resume()
	case v1alpha1.CommandPromote, v1alpha1.CommandPromoteFull, v1alpha1.CommandPromoteOverride:
		return k.promote(c)
	}
	return unknownCommand, false
}

// overrideText is the record of a promote-override: who, when and what it
// overrode.
func (r *release) overrideText(c PendingCommand, failed string) string {
	return fmt.Sprintf("promote-override command %s at %s, overriding %s", commandText(c),
		r.now.UTC().Format("2006-01-02T15:04:05Z"), failed)
}
