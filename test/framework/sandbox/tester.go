package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/sluice-dev/sluice/internal/hooks"
	"github.com/sluice-dev/sluice/test/framework/mesh"
)

// tester is the smoke test a BlueGreen's pre-promotion hook calls: it sends
// the requests the hook's metadata asks for to a Service through the mesh
// (metadata service, requests, maxErrorRate) and answers 200 when the error
// rate is at most maxErrorRate, 500 otherwise, saying what it saw.
type tester struct {
	mesh *mesh.Mesh
}

func (t *tester) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/smoke" {
		http.Error(w, "POST /smoke with a Sluice hook payload", http.StatusNotFound)
		return
	}
	var p hooks.Payload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, "read the hook payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	svc := p.Metadata["service"]
	n, err := strconv.Atoi(p.Metadata["requests"])
	if err != nil || n < 1 || svc == "" {
		http.Error(w, "metadata needs service and a positive number of requests", http.StatusBadRequest)
		return
	}
	limit, err := strconv.ParseFloat(p.Metadata["maxErrorRate"], 64)
	if err != nil {
		http.Error(w, "metadata maxErrorRate must be a number", http.StatusBadRequest)
		return
	}
	res, err := t.mesh.Probe(r.Context(), svc, n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	rate := float64(res.Failed) / float64(res.Sent)
	msg := fmt.Sprintf("%d requests through %s, %d failed (%.1f%%, at most %.1f%% allowed)", res.Sent, svc, res.Failed, 100*rate, 100*limit)
	if rate > limit {
		http.Error(w, msg, http.StatusInternalServerError)
		return
	}
	_, _ = fmt.Fprintln(w, msg)
}
