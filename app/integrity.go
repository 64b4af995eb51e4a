package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/config"
	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// The variables of hash-chained events (see Options.HashChain and
// docs/integrity.md).
const (
	// EnvHashChain turns hash-chaining on or off (a truth value, as
	// IS_SNAPSHOTTING_ENABLED).
	EnvHashChain = "HASH_CHAIN"
	// EnvSaltForDataIntegrity is the salt that keys the hashes, in
	// standard base64 (the Python library's name). Set alone, it turns
	// hash-chaining on.
	EnvSaltForDataIntegrity = "SALT_FOR_DATA_INTEGRITY"
	// EnvHashScheme is the scheme of new hashes: 1 or 2 (the default); see
	// package integrity.
	EnvHashScheme = "HASH_SCHEME"
	// EnvHashChainStrict makes hash-chaining strict (a truth value; see
	// Options.HashChainStrict).
	EnvHashChainStrict = "HASH_CHAIN_STRICT"
)

// hashSettings returns the typed options of hash-chaining that stand for
// variables.
func (o Options) hashSettings(set map[string]config.Setting) {
	if o.HashChain {
		set[EnvHashChain] = config.Setting{Name: "app.Options.HashChain", Value: "true"}
	}
	if o.HashSalt != nil {
		set[EnvSaltForDataIntegrity] = config.Setting{Name: "app.Options.HashSalt", Value: base64.StdEncoding.EncodeToString(o.HashSalt)}
		if len(o.HashSalt) == 0 { // the empty salt, given: as set as any other
			set[EnvHashChain] = config.Setting{Name: "app.Options.HashSalt", Value: "true"}
		}
	}
	if o.HashScheme != 0 {
		set[EnvHashScheme] = config.Setting{Name: "app.Options.HashScheme", Value: strconv.Itoa(o.HashScheme)}
	}
	if o.HashChainStrict {
		set[EnvHashChainStrict] = config.Setting{Name: "app.Options.HashChainStrict", Value: "true"}
	}
}

// hasherFromEnv returns the hasher of an application that hash-chains its
// events (strict with HASH_CHAIN_STRICT), or nil for one that does not.
func hasherFromEnv(env config.Environment) (*integrity.Hasher, error) {
	chainVar, chainValue, _ := env.Find(EnvHashChain)
	chain, err := env.Bool(EnvHashChain, false)
	if err != nil {
		return nil, err
	}
	explicit := strings.TrimSpace(chainValue) != ""
	saltVar, saltValue, _ := env.Find(EnvSaltForDataIntegrity)
	var salt []byte
	if saltValue != "" {
		if salt, err = base64.StdEncoding.DecodeString(strings.TrimSpace(saltValue)); err != nil {
			return nil, &config.Error{Var: saltVar, Reason: "standard base64 is expected (the value is not shown)"}
		}
		if explicit && !chain {
			return nil, &config.Error{Var: saltVar, Reason: fmt.Sprintf("a salt is set but %s=%s turns hash-chaining off: unset one of them", chainVar, chainValue)}
		}
		chain = true
	}
	schemeVar, schemeValue, _ := env.Find(EnvHashScheme)
	scheme := 0
	if s := strings.TrimSpace(schemeValue); s != "" {
		if scheme, err = strconv.Atoi(s); err != nil || (scheme != integrity.Scheme1 && scheme != integrity.Scheme2) {
			return nil, &config.Error{Var: schemeVar, Value: schemeValue, Reason: "1 or 2 is expected"}
		}
		if !chain {
			return nil, &config.Error{Var: schemeVar, Value: schemeValue, Reason: "the application does not hash-chain its events: set " + EnvHashChain}
		}
	}
	strictVar, strictValue, _ := env.Find(EnvHashChainStrict)
	strict, err := env.Bool(EnvHashChainStrict, false)
	if err != nil {
		return nil, err
	}
	if strict && !chain {
		return nil, &config.Error{Var: strictVar, Value: strictValue,
			Reason: "strict mode requires hash-chaining: set " + EnvHashChain + " or " + EnvSaltForDataIntegrity}
	}
	if !chain {
		return nil, nil
	}
	h, err := integrity.NewHasher(salt, scheme)
	if err != nil || !strict {
		return h, err
	}
	return h.Strict(), nil
}

// HashChain reports whether the application hash-chains its events.
func (a *Application) HashChain() bool { return a.hasher != nil }

// Hasher returns the hasher of an application that hash-chains its
// events, and nil for one that does not.
func (a *Application) Hasher() *integrity.Hasher { return a.hasher }

// hashEvents sets the hash of each of stored, chained to the hash of its
// aggregate's previous event: the one before it in stored, else the head
// of its aggregate in aggs, else the last event recorded (read from the
// store: one query per aggregate whose head is not known).
func (a *Application) hashEvents(ctx context.Context, stored []persistence.StoredEvent, aggs []domain.Aggregate) error {
	type head struct {
		version int64
		hash    []byte
	}
	heads := make(map[uuid.UUID]head, len(aggs))
	for i := range stored {
		e := &stored[i]
		prev, ok := heads[e.OriginatorID]
		if !ok || prev.version != e.OriginatorVersion-1 {
			hash, err := a.previousHash(ctx, e.OriginatorID, e.OriginatorVersion, aggs)
			if err != nil {
				return err
			}
			prev = head{hash: hash}
		}
		e.Hash = a.hasher.EventHash(*e, prev.hash)
		heads[e.OriginatorID] = head{e.OriginatorVersion, e.Hash}
	}
	return nil
}

// previousHash returns the hash of the event of the aggregate id before
// version: its head, when one of aggs is the aggregate and its head is
// at that version, else the hash of the last event recorded before
// version (nil when it has none, or there is none).
func (a *Application) previousHash(ctx context.Context, id uuid.UUID, version int64, aggs []domain.Aggregate) ([]byte, error) {
	for _, agg := range aggs {
		if agg.ID() == id {
			if hash, ok := domain.HeadAt(agg, version-1); ok {
				return hash, nil
			}
		}
	}
	before := version - 1
	last, err := a.infra.recorder.SelectEvents(ctx, id, persistence.EventQuery{Lte: &before, Desc: true, Limit: 1})
	if err != nil || len(last) == 0 {
		return nil, err
	}
	return last[0].Hash, nil
}

// setHeads makes the hash of the last of stored of each of aggs its
// head.
func setHeads(aggs []domain.Aggregate, stored []persistence.StoredEvent) {
	for _, agg := range aggs {
		for i := len(stored) - 1; i >= 0; i-- {
			if stored[i].OriginatorID == agg.ID() {
				domain.SetHead(agg, stored[i].OriginatorVersion, stored[i].Hash)
				break
			}
		}
	}
}

// sealSnapshot records in s, a snapshot of agg, the hash of agg's event
// at s's version (its head, or read from the store) and seals s.
func (a *Application) sealSnapshot(ctx context.Context, agg domain.Aggregate, s *persistence.StoredEvent) error {
	head, ok := domain.HeadAt(agg, s.OriginatorVersion)
	if !ok {
		gt := s.OriginatorVersion - 1
		at, err := a.infra.recorder.SelectEvents(ctx, s.OriginatorID, persistence.EventQuery{Gt: &gt, Lte: &s.OriginatorVersion})
		if err != nil {
			return err
		}
		if len(at) == 1 {
			head = at[0].Hash
		}
	}
	s.HeadHash = head
	s.Hash = a.hasher.SnapshotHash(*s)
	return nil
}

// chainAfter returns the chain that verifies the stored events of the
// aggregate id read after the stored snapshot snap (nil when none was
// read), and whose head is to be the aggregate's.
func (a *Application) chainAfter(id uuid.UUID, snap *persistence.StoredEvent) *integrity.Chain {
	if snap != nil {
		return a.hasher.ChainFrom(id, snap.OriginatorVersion, snap.HeadHash)
	}
	return a.hasher.NewChain(id)
}
