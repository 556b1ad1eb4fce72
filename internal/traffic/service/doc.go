// Package service carries out a BlueGreen's flip: it moves all the traffic
// from one color to the other by changing one value, the color in the
// active Service's selector (label rollouts.sluice.dev/color), in one write,
// and points the preview Service at the color left idle.
//
// The Services are the ones internal/workload creates; Switch only changes
// their color, refuses Services the BlueGreen does not own, and never
// points the active Service at a color without a ready pod (CheckReady, the
// same rule a route's flip follows). Read reads what both Services select,
// for the state machine. Because all traffic moves at once, this is not a
// weighted traffic.Router.
package service
