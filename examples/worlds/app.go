package worlds

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/codec"
)

// Name is the application's name. It prefixes the application's
// environment variables (WORLDS_POSTGRES_SCHEMA) and names its Postgres
// schema ("worlds") by default.
const Name = "Worlds"

// The topics under which the example's types are stored.
const (
	TopicWorld             = "worlds:World"
	TopicWorldCreated      = "worlds:WorldCreated"
	TopicSomethingHappened = "worlds:SomethingHappened"
)

// NewRegistry returns a registry of the World aggregate and its events.
func NewRegistry() *codec.Registry {
	r := codec.NewRegistry()
	r.Register(TopicWorld, World{})
	r.Register(TopicWorldCreated, WorldCreated{})
	r.Register(TopicSomethingHappened, SomethingHappened{})
	return r
}

// Worlds is the application of worlds. It embeds the *app.Application, so
// Save, Log, Mapper and Close are at hand. It is safe for concurrent use;
// concurrent commands on one world may fail with a
// *persistence.ConcurrencyError, and can then be retried.
type Worlds struct {
	*app.Application
	worlds *app.Repository[World, *World]
}

// NewWorlds builds a Worlds application. opts configures it as for
// app.New (Env, Lookup, snapshotting, section size); Name defaults to
// Name and Registry to NewRegistry(). Close it when done.
func NewWorlds(ctx context.Context, opts app.Options) (*Worlds, error) {
	if opts.Name == "" {
		opts.Name = Name
	}
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	a, err := app.New(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Worlds{Application: a, worlds: app.NewRepository[World](a)}, nil
}

// Repository returns the repository of the application's worlds.
func (w *Worlds) Repository() *app.Repository[World, *World] { return w.worlds }

// CreateWorld creates and saves a new world named name and returns its ID.
func (w *Worlds) CreateWorld(ctx context.Context, name string) (uuid.UUID, error) {
	world, err := NewWorld(name)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := w.Save(ctx, world); err != nil {
		return uuid.Nil, fmt.Errorf("create world %q: %w", name, err)
	}
	return world.ID(), nil
}

// MakeItSo records that what happened to the world id. An unknown id is
// errors.Is(err, app.ErrAggregateNotFound).
func (w *Worlds) MakeItSo(ctx context.Context, id uuid.UUID, what string) error {
	world, err := w.worlds.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := world.MakeItSo(what); err != nil {
		return err
	}
	if _, err := w.Save(ctx, world); err != nil {
		return fmt.Errorf("make it so on world %s: %w", id, err)
	}
	return nil
}

// GetHistory returns what happened to the world id, in order. An unknown
// id is errors.Is(err, app.ErrAggregateNotFound).
func (w *Worlds) GetHistory(ctx context.Context, id uuid.UUID) ([]string, error) {
	world, err := w.worlds.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return append([]string{}, world.History...), nil
}
