package integrity_test

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/domain"
	"github.com/eventsourcing-go/eventsourcing/integrity"
	"github.com/eventsourcing-go/eventsourcing/persistence"
	"github.com/eventsourcing-go/eventsourcing/persistence/memory"
)

// golden is a hash vector: fixed inputs and the hash they must give,
// computed by an implementation apart from this package's (Python's hmac
// and hashlib) and checked against the SQL functions too (sql_test.go).
// Changing any of these hashes breaks every recorded chain.
type golden struct {
	name     string
	salt     []byte
	scheme   int
	event    persistence.StoredEvent
	previous string // hex
	want     string // hex
}

var goldenID = uuid.MustParse("b81d160d-d7ef-45ab-a629-c7278082a845")

func goldens() []golden {
	long := make([]byte, 100) // longer than the HMAC block: hashed into the key
	for i := range long {
		long[i] = byte(i)
	}
	return []golden{
		{"scheme 1, empty salt, first event", nil, 1,
			persistence.StoredEvent{OriginatorID: goldenID, OriginatorVersion: 1, Topic: "test:World.Created", State: []byte(`{"Name":"earth"}`)},
			"", "0161dfef8701e6fccef2a7f3c148fece9b43b4e906d416c1d92bc0dc772de32e45"},
		{"scheme 1, salt, chained", []byte("salt"), 1,
			persistence.StoredEvent{OriginatorID: goldenID, OriginatorVersion: 2, Topic: "test:World.SomethingHappened", State: []byte(`{"What":"dinosaurs"}`)},
			"0161dfef8701e6fccef2a7f3c148fece9b43b4e906d416c1d92bc0dc772de32e45",
			"01b80f3f1d9a4fb950ec33351826b4d3c353d29c2b05793e4476f318e2767bd129"},
		{"scheme 2, ids, chained", []byte("salt"), 2,
			persistence.StoredEvent{OriginatorID: goldenID, OriginatorVersion: 3, Topic: "test:World.SomethingHappened", State: []byte(`{"What":"trucks"}`),
				EventID: uuid.MustParse("0190a5a6-3c4f-7cde-8f00-000000000001"), CorrelationID: uuid.MustParse("0190a5a6-3c4f-7cde-8f00-000000000002")},
			"01b80f3f1d9a4fb950ec33351826b4d3c353d29c2b05793e4476f318e2767bd129",
			"02e1f2b1ea8e08ea279192a9a3c00b502fc6867d241fb5bb2c78dc6b069c1046a5"},
		{"scheme 2, long salt, negative version, empty fields", long, 2,
			persistence.StoredEvent{OriginatorID: goldenID, OriginatorVersion: -5},
			"", "0276f6cd8c47573016ed64cd3b660ef1ffb0e44202852e8ee43e7d1744ad3d7047"},
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	if len(b) == 0 {
		return nil
	}
	return b
}

func TestGoldenVectors(t *testing.T) {
	t.Parallel()
	for _, g := range goldens() {
		h, err := integrity.NewHasher(g.salt, g.scheme)
		require.NoError(t, err)
		got := h.EventHash(g.event, unhex(t, g.previous))
		require.Equal(t, g.want, hex.EncodeToString(got), g.name)
		require.Len(t, got, integrity.Size)
	}
}

func TestNewHasherSchemes(t *testing.T) {
	t.Parallel()
	h, err := integrity.NewHasher(nil, 0)
	require.NoError(t, err)
	require.Equal(t, integrity.DefaultScheme, h.Scheme())
	for _, bad := range []int{-1, 3, 255} {
		_, err := integrity.NewHasher(nil, bad)
		require.ErrorIs(t, err, integrity.ErrUnknownScheme, "scheme %d", bad)
	}
}

// chain returns n hashed events of one aggregate, the first of hasher
// scheme1 for the first half.
func chain(t *testing.T, salt []byte, n int, schemes ...int) []persistence.StoredEvent {
	t.Helper()
	id := uuid.New()
	var events []persistence.StoredEvent
	var prev []byte
	for i := range n {
		scheme := integrity.DefaultScheme
		if i < len(schemes) {
			scheme = schemes[i]
		}
		h, err := integrity.NewHasher(salt, scheme)
		require.NoError(t, err)
		e := persistence.StoredEvent{OriginatorID: id, OriginatorVersion: int64(i + 1), Topic: "t", State: []byte{byte(i)}, EventID: uuid.New()}
		e.Hash = h.EventHash(e, prev)
		prev = e.Hash
		events = append(events, e)
	}
	return events
}

func TestVerify(t *testing.T) {
	t.Parallel()
	salt := []byte("pepper")
	h, err := integrity.NewHasher(salt, 0)
	require.NoError(t, err)

	t.Run("intact", func(t *testing.T) {
		require.NoError(t, h.Verify(chain(t, salt, 5)))
	})
	t.Run("older scheme then newer", func(t *testing.T) {
		require.NoError(t, h.Verify(chain(t, salt, 5, 1, 1, 1)))
	})
	t.Run("unhashed before hashed", func(t *testing.T) {
		events := chain(t, salt, 4)
		// Re-chain the last two from empty, after two unhashed events.
		events[0].Hash, events[1].Hash = nil, nil
		events[2].Hash = h.EventHash(events[2], nil)
		events[3].Hash = h.EventHash(events[3], events[2].Hash)
		require.NoError(t, h.Verify(events))
	})

	type tamper struct {
		name    string
		change  func([]persistence.StoredEvent) []persistence.StoredEvent
		version int64
		as      any
	}
	for _, tc := range []tamper{
		{"edited state", func(e []persistence.StoredEvent) []persistence.StoredEvent { e[2].State = []byte("x"); return e }, 3, &integrity.EventHashError{}},
		{"edited topic", func(e []persistence.StoredEvent) []persistence.StoredEvent { e[1].Topic = "u"; return e }, 2, &integrity.EventHashError{}},
		{"edited event id", func(e []persistence.StoredEvent) []persistence.StoredEvent { e[1].EventID = uuid.New(); return e }, 2, &integrity.EventHashError{}},
		{"deleted middle event", func(e []persistence.StoredEvent) []persistence.StoredEvent { return append(e[:2], e[3:]...) }, 4, &integrity.HeadHashError{}},
		{"deleted first event", func(e []persistence.StoredEvent) []persistence.StoredEvent { return e[1:] }, 2, &integrity.EventHashError{}},
		{"swapped versions", func(e []persistence.StoredEvent) []persistence.StoredEvent {
			e[1].OriginatorVersion, e[2].OriginatorVersion = 3, 2
			e[1], e[2] = e[2], e[1]
			return e
		}, 2, &integrity.EventHashError{}},
		{"edited hash", func(e []persistence.StoredEvent) []persistence.StoredEvent {
			e[3].Hash = append([]byte{2}, make([]byte, 32)...)
			return e
		}, 4, &integrity.EventHashError{}},
		{"unknown scheme", func(e []persistence.StoredEvent) []persistence.StoredEvent {
			e[3].Hash = append([]byte{9}, e[3].Hash[1:]...)
			return e
		}, 4, &integrity.SchemeError{}},
		{"short hash", func(e []persistence.StoredEvent) []persistence.StoredEvent { e[3].Hash = e[3].Hash[:5]; return e }, 4, &integrity.SchemeError{}},
		{"hash removed after hashed", func(e []persistence.StoredEvent) []persistence.StoredEvent { e[4].Hash = nil; return e }, 5, &integrity.HeadHashError{}},
		{"hash removed first", func(e []persistence.StoredEvent) []persistence.StoredEvent { e[0].Hash = nil; return e }, 2, &integrity.EventHashError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := tc.change(chain(t, salt, 5))
			err := h.Verify(events)
			require.ErrorIs(t, err, domain.ErrDataIntegrity)
			require.ErrorAs(t, err, &tc.as)
			switch e := tc.as.(type) {
			case *integrity.EventHashError:
				require.Equal(t, tc.version, e.Version)
				require.Equal(t, events[0].OriginatorID, e.OriginatorID)
			case *integrity.HeadHashError:
				require.Equal(t, tc.version, e.Version)
				require.Equal(t, events[0].OriginatorID, e.OriginatorID)
			case *integrity.SchemeError:
				require.Equal(t, tc.version, e.Version)
				require.ErrorIs(t, err, integrity.ErrUnknownScheme)
			}
			require.Contains(t, err.Error(), events[0].OriginatorID.String())
		})
	}

	t.Run("changed salt", func(t *testing.T) {
		other, err := integrity.NewHasher([]byte("salt"), 0)
		require.NoError(t, err)
		var hashErr *integrity.EventHashError
		require.ErrorAs(t, other.Verify(chain(t, salt, 3)), &hashErr)
		require.EqualValues(t, 1, hashErr.Version)
	})
}

func TestChainFromHead(t *testing.T) {
	t.Parallel()
	h, err := integrity.NewHasher(nil, 0)
	require.NoError(t, err)
	events := chain(t, nil, 5)
	c := h.ChainFrom(events[0].OriginatorID, 2, events[1].Hash)
	for _, e := range events[2:] {
		require.NoError(t, c.Next(e))
	}
	head, version, ok := c.Head()
	require.True(t, ok)
	require.EqualValues(t, 5, version)
	require.Equal(t, events[4].Hash, head)

	c = h.ChainFrom(events[0].OriginatorID, 2, events[0].Hash) // a wrong head
	var hashErr *integrity.EventHashError
	require.ErrorAs(t, c.Next(events[2]), &hashErr)
	c = h.ChainFrom(events[0].OriginatorID, 1, events[0].Hash) // a snapshot before a deleted event
	var headErr *integrity.HeadHashError
	require.ErrorAs(t, c.Next(events[2]), &headErr)
	require.EqualValues(t, 3, headErr.Version)
}

func TestSnapshotSeal(t *testing.T) {
	t.Parallel()
	h, err := integrity.NewHasher([]byte("k"), 2)
	require.NoError(t, err)
	s := persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: 7, Topic: "t", State: []byte("state"), HeadHash: []byte("head")}
	s.Hash = h.SnapshotHash(s)
	require.EqualValues(t, integrity.Scheme1, s.Hash[0], "snapshots are sealed with scheme 1")
	require.NoError(t, h.VerifySnapshot(s))
	for name, change := range map[string]func(*persistence.StoredEvent){
		"state": func(s *persistence.StoredEvent) { s.State = []byte("other") },
		"head":  func(s *persistence.StoredEvent) { s.HeadHash = []byte("other") },
		"seal":  func(s *persistence.StoredEvent) { s.Hash = nil },
	} {
		changed := s.Clone()
		change(&changed)
		var snapErr *integrity.SnapshotHashError
		err := h.VerifySnapshot(changed)
		require.ErrorAs(t, err, &snapErr, name)
		require.EqualValues(t, 7, snapErr.Version)
		require.True(t, errors.Is(err, domain.ErrDataIntegrity))
	}
}

func BenchmarkEventHash(b *testing.B) {
	h, err := integrity.NewHasher([]byte("salt"), 0)
	require.NoError(b, err)
	e := persistence.StoredEvent{OriginatorID: uuid.New(), OriginatorVersion: 1, Topic: "test:World.SomethingHappened", State: make([]byte, 200)}
	b.ReportAllocs()
	for b.Loop() {
		h.EventHash(e, e.State[:33])
	}
}

// A strict hasher refuses events without a hash, even with none hashed
// before them: removing every hash of an aggregate, then editing it, does
// not pass for events recorded before hash-chaining, as it does for a
// hasher that is not strict.
func TestStrict(t *testing.T) {
	t.Parallel()
	salt := []byte("pepper")
	h, err := integrity.NewHasher(salt, 0)
	require.NoError(t, err)
	require.False(t, h.IsStrict())
	strict := h.Strict()
	require.True(t, strict.IsStrict())
	scheme1, err := integrity.NewHasher(salt, integrity.Scheme1)
	require.NoError(t, err)
	require.Equal(t, integrity.Scheme1, scheme1.Strict().Scheme(), "the scheme is kept")

	intact := chain(t, salt, 3)
	require.NoError(t, strict.Verify(intact))
	require.Equal(t, intact[0].Hash, strict.EventHash(intact[0], nil), "the salt is kept")

	stripped := chain(t, salt, 3)
	for i := range stripped {
		stripped[i].Hash = nil
	}
	stripped[1].State = []byte("edited")
	require.NoError(t, h.Verify(stripped), "the limit of a hasher that is not strict")
	err = strict.Verify(stripped)
	require.ErrorIs(t, err, domain.ErrDataIntegrity)
	var headErr *integrity.HeadHashError
	require.ErrorAs(t, err, &headErr)
	require.Equal(t, stripped[0].OriginatorID, headErr.OriginatorID)
	require.EqualValues(t, 1, headErr.Version)
	require.Contains(t, err.Error(), "has no hash")

	// From a snapshot whose head had no hash, the events after it must
	// have one.
	c := strict.ChainFrom(stripped[0].OriginatorID, 1, nil)
	require.ErrorAs(t, c.Next(stripped[1]), &headErr)
	require.EqualValues(t, 2, headErr.Version)

	// VerifyLog reports each event without a hash, and an unsealed
	// snapshot.
	ctx := t.Context()
	events, snapshots := memory.NewRecorder(), memory.NewAggregateRecorder()
	_, err = events.InsertNotifications(ctx, append(stripped, chain(t, salt, 2)...))
	require.NoError(t, err)
	snap := stripped[2].Clone()
	require.NoError(t, snapshots.InsertEvents(ctx, []persistence.StoredEvent{snap}))
	sum, err := h.VerifyLog(ctx, events, snapshots, 2, nil, nil)
	require.NoError(t, err)
	require.Equal(t, integrity.Summary{Aggregates: 2, Events: 5, UnhashedEvents: 3, Snapshots: 1, UnsealedSnapshots: 1}, sum)
	var problems []integrity.Problem
	sum, err = strict.VerifyLog(ctx, events, snapshots, 2, func(p integrity.Problem) { problems = append(problems, p) }, nil)
	require.NoError(t, err)
	require.EqualValues(t, 4, sum.Problems)
	require.Len(t, problems, 4)
	for i, p := range problems[:3] {
		require.EqualValues(t, i+1, p.Version)
		require.False(t, p.Snapshot)
		require.ErrorAs(t, p.Err, &headErr)
	}
	require.True(t, problems[3].Snapshot)
	var snapErr *integrity.SnapshotHashError
	require.ErrorAs(t, problems[3].Err, &snapErr)
	require.EqualValues(t, 3, snapErr.Version)
}
