//go:build linux

package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// chaos kills the operator every 2-7 s and starts it again 0.2-2.2 s later
// (a kill and a restart, as a kubelet would), until stop is closed. From
// the plan's electAt-th kill on, for the plan's failovers, the operator runs
// as two replicas that elect a leader, and each kill hits the leader: a
// failover, whose takeover it measures, and after which it waits for the
// new leader to work before the next kill. It holds calm from a kill to the
// restart.
type chaos struct {
	c    client.Client
	op   *operator
	w    *watcher
	calm *sync.Mutex
	rng  *rand.Rand

	mu        sync.Mutex
	failovers int
	midFlight int             // failovers with a release in flight
	takeovers []time.Duration // SIGKILL of the leader → another replica holds the Lease
	actives   []time.Duration // SIGKILL of the leader → a leader has reconciled
	wg        sync.WaitGroup
}

func (ch *chaos) run(t *testing.T, p plan, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	leaderKills := 0
	for {
		select {
		case <-stop:
			ch.wg.Wait()
			if err := ch.op.start(); err != nil {
				t.Errorf("start the operator after the faults: %v", err)
			}
			return
		case <-time.After(2*time.Second + time.Duration(ch.rng.Int64N(int64(5*time.Second)))):
		}
		ch.calm.Lock()
		if err := ch.switchMode(p, leaderKills); err != nil {
			t.Errorf("%v", err)
		}
		holder, inFlight := ch.holder(), ch.inFlight()
		leader, err := ch.op.kill(ch.rng)
		killedAt := time.Now()
		if err != nil {
			t.Errorf("kill the operator: %v", err)
		}
		failover := leader && ch.op.electing()
		if failover {
			leaderKills++
			ch.wg.Add(1)
			go ch.measure(holder, killedAt, inFlight)
		}
		time.Sleep(200*time.Millisecond + time.Duration(ch.rng.Int64N(int64(2*time.Second))))
		if err := ch.op.start(); err != nil {
			t.Errorf("start the operator: %v", err)
		}
		if failover {
			// The next kill lands on a leader at work, not on a takeover.
			ctx, cancel := context.WithTimeout(context.Background(), deadline.Scale(time.Minute))
			_ = ch.op.waitActive(ctx)
			cancel()
		}
		ch.calm.Unlock()
	}
}

// switchMode moves to two replicas electing a leader at the plan's
// electAt-th kill, and back to one replica after its failovers.
func (ch *chaos) switchMode(p plan, leaderKills int) error {
	_, kills := ch.op.counts()
	switch electing := ch.op.electing(); {
	case !electing && kills >= p.electAt && leaderKills < p.failovers:
		if err := ch.electLeaders(); err != nil {
			return fmt.Errorf("switch to two replicas with leader election: %w", err)
		}
	case electing && leaderKills >= p.failovers:
		if err := ch.op.runAlone(); err != nil {
			return fmt.Errorf("switch back to one replica: %w", err)
		}
	default:
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline.Scale(time.Minute))
	defer cancel()
	return ch.op.waitActive(ctx)
}

// electLeaders creates the Lease's namespace and switches the operator to
// two replicas with leader election.
func (ch *chaos) electLeaders() error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseNamespace}}
	if err := ch.c.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := ch.op.electLeaders(); err != nil {
		return err
	}
	return ch.op.start()
}

// holder is the Lease's holder now, "" when there is none.
func (ch *chaos) holder() string {
	l := &coordinationv1.Lease{}
	if err := ch.c.Get(context.Background(), types.NamespacedName{Namespace: leaseNamespace, Name: leaseName}, l); err != nil {
		return ""
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// inFlight reports whether a release of either app is in flight.
func (ch *chaos) inFlight() bool {
	for _, app := range []string{"podinfo", "checkout"} {
		if v, ok := ch.w.view(app); ok && v.release != "" && !v.aborted && !v.flipped {
			return true
		}
	}
	return false
}

// measure follows a failover: how long until another replica holds the
// Lease, and until a leader reconciles again.
func (ch *chaos) measure(before string, killedAt time.Time, inFlight bool) {
	defer ch.wg.Done()
	var took, active time.Duration
	for took == 0 || active == 0 {
		if took == 0 {
			if h := ch.holder(); h != "" && h != before {
				took = time.Since(killedAt)
			}
		}
		if active == 0 && ch.op.active() {
			active = time.Since(killedAt)
		}
		if time.Since(killedAt) > time.Minute {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.failovers++
	if inFlight {
		ch.midFlight++
	}
	if took > 0 {
		ch.takeovers = append(ch.takeovers, took)
	}
	if active > 0 {
		ch.actives = append(ch.actives, active)
	}
}

// electing reports whether the operator runs with leader election.
func (o *operator) electing() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.elect
}
