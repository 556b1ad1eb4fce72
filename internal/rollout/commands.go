package rollout

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// CommandsFromAnnotations reads the pending manual commands from an object's
// annotations: one per annotation rollouts.sluice.dev/command.<name>, whose
// value is the command's ID, with who gave it from the matching .by
// annotation. An annotation naming a command Sluice does not know is
// ignored: status keeps one record per kind of command, and a record per
// unknown name would let any annotation grow status without bound. The
// order is not meaningful; Next orders them (see pendingCommands).
func CommandsFromAnnotations(annotations map[string]string) []PendingCommand {
	var out []PendingCommand
	for k, id := range annotations {
		name, ok := strings.CutPrefix(k, v1alpha1.AnnotationCommandPrefix)
		c := v1alpha1.Command(name)
		if !ok || !slices.Contains(v1alpha1.Commands, c) {
			continue
		}
		out = append(out, PendingCommand{Name: c, ID: id, By: annotations[v1alpha1.CommandByAnnotation(c)]})
	}
	return out
}

// pendingCommands returns the commands not carried out yet (their name and
// ID are not in done), in the order to carry them out: abort first, since a
// rollback must never wait behind, or be undone by, another command; then by
// ID (the IDs the plugin and the Argo CD actions write start with a UTC
// timestamp, so this is the order they were given in); then in the order of
// v1alpha1.Commands.
func pendingCommands(cmds []PendingCommand, done []v1alpha1.CommandStatus) []PendingCommand {
	var out []PendingCommand
	for _, c := range cmds {
		if !commandDone(done, c) {
			out = append(out, c)
		}
	}
	rank := func(c v1alpha1.Command) int {
		if i := slices.Index(v1alpha1.Commands, c); i >= 0 {
			return i
		}
		return len(v1alpha1.Commands)
	}
	slices.SortFunc(out, func(a, b PendingCommand) int {
		if (a.Name == v1alpha1.CommandAbort) != (b.Name == v1alpha1.CommandAbort) {
			if a.Name == v1alpha1.CommandAbort {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(rank(a.Name), rank(b.Name)),
			cmp.Compare(a.Name, b.Name))
	})
	return out
}

func commandDone(done []v1alpha1.CommandStatus, c PendingCommand) bool {
	for _, d := range done {
		if d.Name == c.Name && d.ID == c.ID {
			return true
		}
	}
	return false
}

// putCommand returns done with rec in place of the record of the same name;
// the input is not modified.
func putCommand(done []v1alpha1.CommandStatus, rec v1alpha1.CommandStatus) []v1alpha1.CommandStatus {
	out := make([]v1alpha1.CommandStatus, 0, len(done)+1)
	for _, d := range done {
		if d.Name != rec.Name {
			out = append(out, d)
		}
	}
	return append(out, rec)
}

// commandText describes a command for events and history, with who gave it
// when the client said: "abort (by jane@example.com)".
func commandText(c PendingCommand) string {
	if c.By == "" {
		return string(c.Name)
	}
	return fmt.Sprintf("%s (by %s)", c.Name, c.By)
}

// commandRecord is the status record of a command carried out or refused.
func commandRecord(c PendingCommand, now metav1.Time, msg string) v1alpha1.CommandStatus {
	return v1alpha1.CommandStatus{Name: c.Name, ID: c.ID, By: c.By, ProcessedAt: now, Message: msg}
}

// unknownCommand is the answer to a command name Sluice does not know.
const unknownCommand = "unknown command; use promote, promote-full, promote-override, abort, pause, resume or retry"

// overrideHint names the command that overrides a failed check, for refusals.
const overrideHint = "a failed check is final: to promote anyway, run `kubectl sluice promote NAME " +
	"--override-failed-analysis` (annotation " + v1alpha1.AnnotationCommandPrefix + "promote-override), " +
	"which is recorded in history"

// failedChecks describes the failed checks of an analysis status, or "" when
// none failed. Why a count and not the last outcome: a failure is never
// forgiven within a release (it counts against failureLimit), so a passing
// check after it does not make skipping the remaining checks safe.
func failedChecks(a *v1alpha1.Analysis, st *v1alpha1.AnalysisStatus) string {
	if st == nil || st.Failures == 0 {
		return ""
	}
	return fmt.Sprintf("%d failed check(s) in this release (%s)", st.Failures, analysisSummary(a, st))
}
