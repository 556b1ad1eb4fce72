package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

// CommandOptions says which release a command goes to and whether to wait
// for the operator to carry it out.
type CommandOptions struct {
	// Namespace and Name of the release.
	Namespace, Name string
	// Kind disambiguates a name used by a Canary and a BlueGreen.
	Kind Kind
	// Wait, when above zero, polls status.lastCommand until the operator
	// records the command, for at most this long.
	Wait time.Duration
	// PollInterval is how often Wait polls; one second when zero.
	PollInterval time.Duration
	// Now stamps the command ID.
	Now time.Time
	// By names who gives the command, recorded with it in status and
	// history. Empty asks the API server who the client is
	// (SelfSubjectReview); when it cannot say, the command goes without.
	By string
}

// SendCommand asks the operator to carry out cmd on a release: one merge
// patch writing the command's own annotation with a fresh command ID (so
// that the same command given twice is two requests, and a command of
// another kind pending at the same time is left in place), and who gives it.
// It prints what it did, and with o.Wait what the operator recorded.
func SendCommand(ctx context.Context, w io.Writer, c client.Client, cmd v1alpha1.Command, o CommandOptions) error {
	if !knownCommand(cmd) {
		return fmt.Errorf("unknown command %q", cmd)
	}
	r, err := find(ctx, c, o.Namespace, o.Name, o.Kind)
	if err != nil {
		return err
	}
	id, err := commandID(o.Now)
	if err != nil {
		return err
	}
	by := o.By
	if by == "" {
		by = whoAmI(ctx, c)
	}
	var byValue any // null removes a stale .by of an earlier command
	if by != "" {
		byValue = by
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{
		v1alpha1.CommandAnnotation(cmd):   id,
		v1alpha1.CommandByAnnotation(cmd): byValue,
	}}})
	if err != nil {
		return err
	}
	if err := c.Patch(ctx, r.object(), client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("write command %s to %s: %w", cmd, r, err)
	}
	if _, err := fmt.Fprintf(w, "%s: %s requested (command-id %s)\n", r, cmd, id); err != nil {
		return err
	}
	if o.Wait <= 0 {
		return nil
	}
	return waitForCommand(ctx, w, c, r, cmd, id, o)
}

// waitForCommand polls the release until status.lastCommand carries id.
func waitForCommand(ctx context.Context, w io.Writer, c client.Client, r release, cmd v1alpha1.Command, id string, o CommandOptions) error {
	interval := o.PollInterval
	if interval <= 0 {
		interval = time.Second
	}
	var done *v1alpha1.CommandStatus
	err := wait.PollUntilContextTimeout(ctx, interval, o.Wait, true, func(ctx context.Context) (bool, error) {
		cur, err := find(ctx, c, o.Namespace, o.Name, r.kind())
		if err != nil {
			return false, err
		}
		if last := cur.command(cmd); last != nil && last.ID == id {
			done = last
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("wait for the operator to carry out %s on %s (command-id %s): %w", cmd, r, id, err)
	}
	msg := done.Message
	if msg == "" {
		msg = "done"
	}
	_, err = fmt.Fprintf(w, "%s: %s carried out: %s\n", r, cmd, msg)
	return err
}

// knownCommand reports whether the operator understands cmd.
func knownCommand(cmd v1alpha1.Command) bool {
	switch cmd {
	case v1alpha1.CommandPromote, v1alpha1.CommandPromoteFull, v1alpha1.CommandPromoteOverride,
		v1alpha1.CommandAbort, v1alpha1.CommandPause, v1alpha1.CommandResume, v1alpha1.CommandRetry:
		return true
	}
	return false
}

// whoAmI asks the API server who the client is authenticated as, or "" when
// it cannot say (an old server, or a policy that forbids asking). The answer
// is what the command's .by annotation records; it is the client's word, the
// audit log is the authoritative record.
func whoAmI(ctx context.Context, c client.Client) string {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return ""
	}
	return review.Status.UserInfo.Username
}

// commandID is a timestamp and a random suffix: unique across people and
// machines giving commands at once, and sortable by time for a reader.
func commandID(now time.Time) (string, error) {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a command ID: %w", err)
	}
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b), nil
}
