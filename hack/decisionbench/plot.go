package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Geometry of the plot: two panels side by side and a legend below.
const (
	plotWidth   = 980
	plotHeight  = 470
	panelWidth  = 400
	panelHeight = 250
	panelTop    = 50
	legendTop   = 370
)

var panelLefts = [2]float64{70, 560}

var palette = []string{"#0b5cad", "#3d9be9", "#14866d", "#b8860b", "#d2691e", "#c0392b", "#8e44ad", "#b07cc6", "#555555"}

// plot draws, for the steady scenario at 100 requests/s, the rollback
// probability and the median minutes to rollback of every method against the
// canary's failure rate.
func plot(ms []method, results []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" `+
		`font-family="sans-serif" font-size="12">`+"\n", plotWidth, plotHeight, plotWidth, plotHeight)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" text-anchor="middle">`+
		`Steady traffic, 100 requests/s, canary at 10%% then 20%% then 50%%, primary failure rate 1%%</text>`+"\n",
		plotWidth/2)
	panel(&b, 0, "rollback probability (%)", 100, 4)
	panel(&b, 1, "median minutes to rollback", horizonMinutes, 5)
	for i, m := range ms {
		color := palette[i%len(palette)]
		var pts []point
		var pts2 []point
		for j, rate := range canaryRates {
			s := find(results, "steady", 100, rate).methods[i]
			pts = append(pts, point{x: xAt(0, j), y: yAt(100*s.rollback, 100)})
			if !math.IsInf(s.medianMinutes, 1) {
				pts2 = append(pts2, point{x: xAt(1, j), y: yAt(s.medianMinutes, horizonMinutes)})
			}
		}
		dash := ""
		if i >= 3 {
			dash = ` stroke-dasharray="5 3"`
		}
		polyline(&b, pts, color, dash)
		polyline(&b, pts2, color, dash)
		lx := 70 + float64(i%3)*300
		ly := float64(legendTop) + float64(i/3)*22
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="2.5"%s/>`+"\n",
			lx, ly-4, lx+28, ly-4, color, dash)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">%s</text>`+"\n", lx+36, ly, html.EscapeString(m.short))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

type point struct{ x, y float64 }

func xAt(p, j int) float64 {
	return panelLefts[p] + 30 + float64(j)*(panelWidth-60)/float64(len(canaryRates)-1)
}

func yAt(v, top float64) float64 {
	return panelTop + panelHeight - math.Min(v, top)/top*panelHeight
}

// panel draws a panel's frame, grid, axis labels and title.
func panel(b *strings.Builder, p int, title string, top float64, divisions int) {
	left := panelLefts[p]
	fmt.Fprintf(b, `<rect x="%.0f" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>`+"\n",
		left, panelTop, panelWidth, panelHeight)
	for k := 0; k <= divisions; k++ {
		v := top * float64(k) / float64(divisions)
		y := yAt(v, top)
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#e5e5e5"/>`+"\n",
			left, y, left+panelWidth, y)
		fmt.Fprintf(b, `<text x="%.0f" y="%.1f" text-anchor="end">%.0f</text>`+"\n", left-6, y+4, v)
	}
	for j, rate := range canaryRates {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%g%%</text>`+"\n",
			xAt(p, j), panelTop+panelHeight+18, 100*rate)
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%d" text-anchor="middle">canary failure rate (primary 1%%: 1%% is a healthy canary)</text>`+"\n",
		left+panelWidth/2, panelTop+panelHeight+36)
	fmt.Fprintf(b, `<text x="%.0f" y="%d" text-anchor="middle" font-weight="bold">%s</text>`+"\n",
		left+panelWidth/2, panelTop-8, title)
}

func polyline(b *strings.Builder, pts []point, color, dash string) {
	if len(pts) == 0 {
		return
	}
	coords := make([]string, len(pts))
	for i, pt := range pts {
		coords[i] = fmt.Sprintf("%.1f,%.1f", pt.x, pt.y)
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", pt.x, pt.y, color)
	}
	fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n",
		strings.Join(coords, " "), color, dash)
}
