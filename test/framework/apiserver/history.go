package apiserver

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Version is one version of an object the API server stored, as a watch
// delivered it.
type Version struct {
	// Kind names the list the object was watched through.
	Kind string
	// Seen is when the watch delivered it.
	Seen time.Time
	// Object is the object as stored, nil when it was deleted.
	Object client.Object

	rv   uint64
	name string
}

// History records, by watch, every version of the objects of some kinds in
// one namespace. A poll can miss a state the operator holds for less than
// the poll interval (a weight read back and passed in the same
// millisecond); a watch delivers every stored version, and replaying them
// in resourceVersion order gives the sequence the API server committed.
type History struct {
	mu       sync.Mutex
	versions []Version
	cancel   context.CancelFunc
	done     sync.WaitGroup
}

// WatchHistory starts recording the objects of each list's kind in ns.
// Stop ends it.
func (e *Env) WatchHistory(ctx context.Context, ns string, lists ...client.ObjectList) (*History, error) {
	wc, err := client.NewWithWatch(e.Config, client.Options{Scheme: e.Scheme})
	if err != nil {
		return nil, fmt.Errorf("watch client: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	h := &History{cancel: cancel}
	for _, l := range lists {
		w, err := wc.Watch(ctx, l, client.InNamespace(ns))
		if err != nil {
			cancel()
			h.done.Wait()
			return nil, fmt.Errorf("watch %T: %w", l, err)
		}
		h.done.Add(1)
		go h.follow(ctx, fmt.Sprintf("%T", l), w)
	}
	return h, nil
}

func (h *History) follow(ctx context.Context, kind string, w watch.Interface) {
	defer h.done.Done()
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			obj, isObj := ev.Object.(client.Object)
			if !isObj || (ev.Type != watch.Added && ev.Type != watch.Modified && ev.Type != watch.Deleted) {
				continue
			}
			rv, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
			v := Version{Kind: kind, Seen: time.Now(), Object: obj, rv: rv, name: obj.GetName()}
			if ev.Type == watch.Deleted {
				v.Object = nil
			}
			h.mu.Lock()
			h.versions = append(h.versions, v)
			h.mu.Unlock()
		}
	}
}

// Versions returns what was recorded so far, in resourceVersion order.
func (h *History) Versions() []Version {
	h.mu.Lock()
	out := append([]Version(nil), h.versions...)
	h.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].rv < out[j].rv })
	return out
}

// Stop ends the recording and returns every version, in resourceVersion
// order.
func (h *History) Stop() []Version {
	h.cancel()
	h.done.Wait()
	return h.Versions()
}

// State is the objects known at one point of a replay, by kind and name.
type State map[string]client.Object

// Get returns the object of that kind (as Version.Kind names it) and name,
// or nil.
func (s State) Get(kind, name string) client.Object { return s[kind+"/"+name] }

// Replay walks versions in order and calls read on the state after each
// one; it returns each distinct value read (consecutive repeats dropped)
// with the time the version that produced it was seen.
func Replay[T comparable](versions []Version, read func(State) (T, bool)) (values []T, seen []time.Time) {
	st := State{}
	for _, v := range versions {
		key := v.Kind + "/" + v.name
		if v.Object == nil {
			delete(st, key)
		} else {
			st[key] = v.Object
		}
		val, ok := read(st)
		if !ok {
			continue
		}
		if n := len(values); n > 0 && values[n-1] == val {
			continue
		}
		values = append(values, val)
		seen = append(seen, v.Seen)
	}
	return values, seen
}
