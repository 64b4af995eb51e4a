package cargoshipping

import "fmt"

// Location is a place in the world where cargo is handled, named by its
// upper-case name (or UN/LOCODE). Only the constants below are valid
// locations: ParseLocation, MarshalText and UnmarshalText refuse others
// with ErrUnknownLocation. The zero Location means no location; fields that
// may hold it are left out of the stored state when they do.
type Location string

// The locations known to the example.
const (
	Hamburg   Location = "HAMBURG"
	Hongkong  Location = "HONGKONG"
	NewYork   Location = "NEWYORK"
	Stockholm Location = "STOCKHOLM"
	Tokyo     Location = "TOKYO"
	NLRTM     Location = "NLRTM" // Rotterdam
	USDAL     Location = "USDAL" // Dallas
	AUMEL     Location = "AUMEL" // Melbourne
)

// Locations returns every known location.
func Locations() []Location {
	return []Location{Hamburg, Hongkong, NewYork, Stockholm, Tokyo, NLRTM, USDAL, AUMEL}
}

// ParseLocation returns the location named name, or an error wrapping
// ErrUnknownLocation.
func ParseLocation(name string) (Location, error) {
	l := Location(name)
	if !l.IsValid() {
		return "", fmt.Errorf("location %q: %w", name, ErrUnknownLocation)
	}
	return l, nil
}

// IsValid reports whether l is one of the known locations.
func (l Location) IsValid() bool {
	switch l {
	case Hamburg, Hongkong, NewYork, Stockholm, Tokyo, NLRTM, USDAL, AUMEL:
		return true
	}
	return false
}

// String returns the location's name.
func (l Location) String() string { return string(l) }

// MarshalText stores a location as its name. It refuses an unknown
// location, so that none is ever stored.
func (l Location) MarshalText() ([]byte, error) {
	if !l.IsValid() {
		return nil, fmt.Errorf("location %q: %w", string(l), ErrUnknownLocation)
	}
	return []byte(l), nil
}

// UnmarshalText reads a location from its name, refusing unknown names.
func (l *Location) UnmarshalText(text []byte) error {
	parsed, err := ParseLocation(string(text))
	if err != nil {
		return err
	}
	*l = parsed
	return nil
}

// HandlingActivity is what is done with cargo at a location: it is
// received, loaded onto a voyage, unloaded from one, or claimed. It is
// stored as its name ("RECEIVE"); the zero HandlingActivity is not a valid
// activity.
type HandlingActivity int

// The handling activities.
const (
	Receive HandlingActivity = iota + 1
	Load
	Unload
	Claim
)

var handlingActivityNames = map[HandlingActivity]string{
	Receive: "RECEIVE",
	Load:    "LOAD",
	Unload:  "UNLOAD",
	Claim:   "CLAIM",
}

// ParseHandlingActivity returns the handling activity named name
// ("RECEIVE", "LOAD", "UNLOAD" or "CLAIM"), or an error wrapping
// ErrUnknownHandlingActivity.
func ParseHandlingActivity(name string) (HandlingActivity, error) {
	for a, n := range handlingActivityNames {
		if n == name {
			return a, nil
		}
	}
	return 0, fmt.Errorf("handling activity %q: %w", name, ErrUnknownHandlingActivity)
}

// IsValid reports whether a is one of the handling activities.
func (a HandlingActivity) IsValid() bool {
	_, ok := handlingActivityNames[a]
	return ok
}

// String returns the activity's name, or "HandlingActivity(n)" for an
// invalid one.
func (a HandlingActivity) String() string {
	if n, ok := handlingActivityNames[a]; ok {
		return n
	}
	return fmt.Sprintf("HandlingActivity(%d)", int(a))
}

// MarshalText stores an activity as its name, refusing an invalid one
// (ErrUnknownHandlingActivity).
func (a HandlingActivity) MarshalText() ([]byte, error) {
	n, ok := handlingActivityNames[a]
	if !ok {
		return nil, fmt.Errorf("handling activity %d: %w", int(a), ErrUnknownHandlingActivity)
	}
	return []byte(n), nil
}

// UnmarshalText reads an activity from its name.
func (a *HandlingActivity) UnmarshalText(text []byte) error {
	parsed, err := ParseHandlingActivity(string(text))
	if err != nil {
		return err
	}
	*a = parsed
	return nil
}
