// Command bench-scale runs the scale benchmark (see package scale) for each
// N given and prints a Markdown table. `make bench-scale` runs it; set
// BENCH_SCALE_FLAGS="-n 100,300,1000" for the full table.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/sluice-dev/sluice/internal/operator"
	"github.com/sluice-dev/sluice/test/framework/scale"
)

func main() {
	ns := flag.String("n", "100", "Comma-separated numbers of Canaries, one run each (the issue's table: 100,300,1000).")
	workers := flag.Int("workers", operator.DefaultWorkers, "The operator's --workers.")
	wave := flag.Int("wave", 100, "Canaries released at once in the wave.")
	aborts := flag.Int("aborts", 20, "Canaries aborted: half idle, half during the wave.")
	pause := flag.Duration("pause", 10*time.Second, "Length of each of the two timed pauses of a release.")
	rest := flag.Duration("rest", 30*time.Second, "How long the operator is watched at rest.")
	opLog := flag.String("operator-log", "", "Keep the operator's log in this file (appended to); empty: discarded with the run.")
	level := flag.String("log-level", "", "The operator's --zap-log-level (5 traces every reconcile); empty: error.")
	flag.Parse()
	// The control plane's helpers log through controller-runtime; the
	// benchmark reports through its own lines and the table.
	ctrl.SetLogger(logr.Discard())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var results []scale.Result
	for _, field := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 2 {
			fmt.Fprintf(os.Stderr, "bench-scale: -n: %q is not a number of Canaries (2 or more)\n", field)
			os.Exit(2)
		}
		res, err := scale.Run(ctx, scale.Options{N: n, Workers: *workers, Wave: *wave, Aborts: *aborts,
			Pause: *pause, Rest: *rest, Log: os.Stderr, OperatorLog: *opLog, LogLevel: *level})
		if err != nil {
			// What was measured before the error is still worth a look.
			scale.Table(os.Stderr, append(results, res))
			fmt.Fprintf(os.Stderr, "bench-scale: N=%d: %v\n", n, err)
			os.Exit(1)
		}
		results = append(results, res)
		scale.Table(os.Stderr, results)
	}
	scale.Table(os.Stdout, results)
}
