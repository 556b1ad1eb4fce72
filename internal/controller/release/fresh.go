package release

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FreshReader reads release objects for a decision. A decision must never be
// taken on a version older than one this process wrote (a status it
// persisted, a finalizer it added): the actions that follow a status left
// unchanged carry no precondition, so a stale read could raise a weight that
// a rollback just lowered. The cache may lag a write by a watch event, so
// FreshReader serves an object from the cache only when the cache holds
// exactly the newest version this process knows of it, from a write's
// answer or a read of the API server; otherwise it reads the API server.
//
// Why: while many releases step at once, most reconciles follow a watch
// event on a Deployment or a route and change nothing; reading the release
// object from the API server was then their only round trip. A version
// written by someone else since (a command, a spec edit) may be missing from
// a cached read, as it would be from a read taken a moment earlier; its own
// watch event brings the object back, and a status written on the older
// version is refused by its resourceVersion precondition.
//
// What it remembers is a hint, not state: after a restart nothing is known,
// and the first read of each object goes to the API server.
type FreshReader struct {
	// Cache is the manager's cached client.
	Cache client.Reader
	// API reads straight from the API server.
	API client.Reader

	mu    sync.Mutex
	known map[types.NamespacedName]string
}

// NewFreshReader returns a FreshReader over a cache and the API server.
func NewFreshReader(cache, api client.Reader) *FreshReader {
	return &FreshReader{Cache: cache, API: api, known: map[types.NamespacedName]string{}}
}

// Get reads key into obj: from the cache when it holds the newest version
// this process knows, else from the API server (which then becomes the
// newest known).
func (f *FreshReader) Get(ctx context.Context, key types.NamespacedName, obj client.Object) error {
	if rv, ok := f.version(key); ok {
		if err := f.Cache.Get(ctx, key, obj); err == nil && obj.GetResourceVersion() == rv {
			return nil
		}
	}
	if err := f.API.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			f.Forget(key)
		}
		return err
	}
	f.Saw(obj)
	return nil
}

// Saw records obj's resourceVersion as the newest this process knows. Call it
// only with an object read from the API server, returned by a write, or got
// from Get.
func (f *FreshReader) Saw(obj client.Object) {
	if obj.GetResourceVersion() == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known[client.ObjectKeyFromObject(obj)] = obj.GetResourceVersion()
}

// Forget drops what is known of key (the object is gone).
func (f *FreshReader) Forget(key types.NamespacedName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.known, key)
}

func (f *FreshReader) version(key types.NamespacedName) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rv, ok := f.known[key]
	return rv, ok
}
