// Command decisionbench measures how well release decision rules tell a bad
// canary from a good one. It simulates releases (Poisson requests, failures,
// a canary weight schedule, optional jitter and a shared incident) with a
// fixed seed and runs, on the very same simulated streams, Sluice's judge
// (the operator's own code), Flagger- and Argo-style threshold rules and a
// fixed-horizon test. It prints a table per scenario and traffic level and
// writes it to docs/analysis.md, with a plot in docs/.
//
//	go run ./hack/decisionbench            # or: make bench-decisions
//	go run ./hack/decisionbench -runs 200 -write=false
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"
)

var (
	trafficLevels = []float64{10, 100, 1000}
	canaryRates   = []float64{0.01, 0.015, 0.02, 0.05}
)

// cell is one combination of scenario, traffic and canary failure rate.
type cell struct {
	sc         scenario
	rps        float64
	canaryRate float64
}

// summary is how one method did on one cell over all runs.
type summary struct {
	rollback      float64 // share of runs rolled back
	medianMinutes float64 // +Inf when under half the runs roll back
	p90Minutes    float64
	medianErrors  float64 // canary failures served until the decision or the end
}

// result holds a cell's summaries, one per method.
type result struct {
	cell
	methods []summary
}

func main() {
	runs := flag.Int("runs", 2000, "simulated releases per scenario, traffic level and canary failure rate")
	seed := flag.Uint64("seed", 1, "seed of the simulation")
	write := flag.Bool("write", true, "write the table into -doc and the plot to -svg")
	doc := flag.String("doc", "docs/analysis.md", "markdown file whose marked section receives the tables")
	svg := flag.String("svg", "docs/analysis-decisions.svg", "plot of rollback probability and time to rollback")
	flag.Parse()

	start := time.Now()
	ms := methods()
	results, err := runAll(ms, *runs, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "decisionbench:", err)
		os.Exit(1)
	}
	table := markdown(ms, results, *runs, *seed)
	fmt.Print(table)
	fmt.Fprintf(os.Stderr, "decisionbench: %d releases per cell, %d cells, %s\n",
		*runs, len(results), time.Since(start).Round(time.Second))
	if !*write {
		return
	}
	if err := replaceSection(*doc, table); err != nil {
		fmt.Fprintln(os.Stderr, "decisionbench:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*svg, []byte(plot(ms, results)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "decisionbench:", err)
		os.Exit(1)
	}
}

// runAll simulates every cell on all cores. Each cell has its own random
// stream derived from the seed, so results do not depend on scheduling.
func runAll(ms []method, runs int, seed uint64) ([]result, error) {
	var cells []cell
	for _, sc := range scenarios {
		for _, rps := range trafficLevels {
			for _, rate := range canaryRates {
				cells = append(cells, cell{sc: sc, rps: rps, canaryRate: rate})
			}
		}
	}
	results := make([]result, len(cells))
	errs := make([]error, len(cells))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				results[i], errs[i] = runCell(ms, cells[i], runs, rand.New(rand.NewPCG(seed, uint64(i))))
			}
		})
	}
	for i := range cells {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}

// runCell simulates runs releases and lets every method decide on each.
func runCell(ms []method, c cell, runs int, rng *rand.Rand) (result, error) {
	minutes := make([][]float64, len(ms))
	errors := make([][]float64, len(ms))
	for range runs {
		s := simulate(rng, c.sc, c.rps, c.canaryRate)
		for i, m := range ms {
			b, err := m.decide(s)
			if err != nil {
				return result{}, fmt.Errorf("%s: %w", m.name, err)
			}
			minutes[i] = append(minutes[i], decisionMinutes(b))
			errors[i] = append(errors[i], float64(errorsServed(s, b)))
		}
	}
	out := result{cell: c}
	for i := range ms {
		out.methods = append(out.methods, summarize(minutes[i], errors[i]))
	}
	return out, nil
}

func decisionMinutes(b int) float64 {
	if b == never {
		return math.Inf(1)
	}
	return float64(b+1) * bucketSeconds / 60
}

// errorsServed counts the canary's failures up to the end of bucket b, or
// over the whole release when it was never rolled back.
func errorsServed(s *stream, b int) int64 {
	if b == never {
		b = buckets - 1
	}
	var n int64
	for i := 0; i <= b; i++ {
		n += s.canaryErrors[i]
	}
	return n
}

func summarize(minutes, errors []float64) summary {
	rolled := 0
	for _, m := range minutes {
		if !math.IsInf(m, 1) {
			rolled++
		}
	}
	return summary{
		rollback:      float64(rolled) / float64(len(minutes)),
		medianMinutes: quantile(minutes, 0.5),
		p90Minutes:    quantile(minutes, 0.9),
		medianErrors:  quantile(errors, 0.5),
	}
}

// quantile is the nearest-rank quantile (never-rolled-back runs count as
// +Inf, so a median exists only when most runs roll back).
func quantile(xs []float64, q float64) float64 {
	sorted := append([]float64(nil), xs...)
	sort.Float64s(sorted)
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
