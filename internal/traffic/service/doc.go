// Package service carries out a BlueGreen's flip: it moves all the traffic
// from one colour to the other by changing one value, the colour in the
// active Service's selector (label rollouts.sluice.dev/color), in one write,
// and points the preview Service at the colour left idle.
//
// The Services are the ones internal/workload creates; Switch only changes
// their colour, refuses Services the BlueGreen does not own, and never
// points the active Service at a colour without a ready pod. Because all
// traffic moves at once, this is not a weighted traffic.Router.
package service
