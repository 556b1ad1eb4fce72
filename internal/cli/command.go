package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

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
}

// SendCommand asks the operator to carry out cmd on a release: one merge
// patch writing the command annotation and a fresh command ID, so that the
// same command given twice is two requests. It prints what it did, and with
// o.Wait what the operator recorded.
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
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		v1alpha1.AnnotationCommand:   string(cmd),
		v1alpha1.AnnotationCommandID: id,
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
		if last := cur.lastCommand(); last != nil && last.ID == id {
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
	case v1alpha1.CommandPromote, v1alpha1.CommandPromoteFull, v1alpha1.CommandAbort,
		v1alpha1.CommandPause, v1alpha1.CommandResume, v1alpha1.CommandRetry:
		return true
	}
	return false
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
