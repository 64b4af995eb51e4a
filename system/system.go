package system

import (
	"errors"
	"fmt"
	"slices"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
)

// App describes one application of a system: its name (which also names
// its configuration and, on Postgres, its schema), the registry of its
// event and aggregate types, and, for a process application, its policy.
type App struct {
	Name     string
	Registry *codec.Registry
	// Policy, when not nil, makes the application a process application,
	// which may follow others.
	Policy Policy
	// Options, when not nil, adjusts the app.Options the runner builds the
	// application with (for example to set SnapshottingIntervals).
	Options func(*app.Options)
}

// ErrSystem is returned by New for a system that cannot work: see its
// message.
var ErrSystem = errors.New("invalid system")

// System is a set of applications wired by pipes, independent of where and
// how it runs: the same System runs in one goroutine, in several, or in
// several processes. It is immutable and safe for concurrent use.
type System struct {
	apps      map[string]App
	names     []string            // in order of first appearance
	followers map[string][]string // leader → its followers
	leaders   map[string][]string // follower → the applications it follows
}

// New defines a system of apps connected by pipes. Each pipe is a chain of
// application names: each application in it follows the one before. An
// application may appear in several pipes, so a follower may have several
// leaders and a leader several followers. It returns an error (errors.Is
// ErrSystem) for an unknown or repeated name, or a follower without a
// Policy.
func New(apps []App, pipes ...[]string) (*System, error) {
	s := &System{apps: map[string]App{}, followers: map[string][]string{}, leaders: map[string][]string{}}
	for _, a := range apps {
		if a.Name == "" || a.Registry == nil {
			return nil, fmt.Errorf("%w: every application needs a name and a registry", ErrSystem)
		}
		if _, dup := s.apps[a.Name]; dup {
			return nil, fmt.Errorf("%w: application %q is defined twice", ErrSystem, a.Name)
		}
		s.apps[a.Name] = a
		s.names = append(s.names, a.Name)
	}
	for _, pipe := range pipes {
		for i, name := range pipe {
			if _, ok := s.apps[name]; !ok {
				return nil, fmt.Errorf("%w: pipe %v names %q, which is not defined", ErrSystem, pipe, name)
			}
			if i == 0 {
				continue
			}
			leader := pipe[i-1]
			if leader == name {
				return nil, fmt.Errorf("%w: %q cannot follow itself", ErrSystem, name)
			}
			if s.apps[name].Policy == nil {
				return nil, fmt.Errorf("%w: %q follows %q but has no policy", ErrSystem, name, leader)
			}
			if !slices.Contains(s.followers[leader], name) {
				s.followers[leader] = append(s.followers[leader], name)
				s.leaders[name] = append(s.leaders[name], leader)
			}
		}
	}
	return s, nil
}

// Names returns the names of the applications, in definition order.
func (s *System) Names() []string { return slices.Clone(s.names) }

// App returns the description of the named application.
func (s *System) App(name string) (App, bool) {
	a, ok := s.apps[name]
	return a, ok
}

// Followers returns the names of the applications that follow leader.
func (s *System) Followers(leader string) []string { return slices.Clone(s.followers[leader]) }

// Leaders returns the names of the applications that follower follows.
func (s *System) Leaders(follower string) []string { return slices.Clone(s.leaders[follower]) }

// IsProcess reports whether the named application has a policy.
func (s *System) IsProcess(name string) bool { return s.apps[name].Policy != nil }
