package system

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/eventsourcing-go/eventsourcing/persistence"
)

// DefaultLeaseTime is how long an instance's leases on partitions last
// unless renewed (see RunnerOptions.LeaseTime); they are renewed every
// third of it.
const DefaultLeaseTime = 10 * time.Second

// PartitionOf returns the partition, from 0 to partitions-1, of the
// notifications of the aggregate id when a process application divides
// its upstream logs in partitions (RunnerOptions.Partitions): the FNV-1a
// hash (64 bits) of the ID's 16 bytes, modulo partitions. All the events of
// an aggregate are in one partition, so their order is kept.
func PartitionOf(id uuid.UUID, partitions int) int {
	if partitions <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write(id[:])
	return int(h.Sum64() % uint64(partitions))
}

// division is the part of its upstream logs that one instance of a process
// application processes: the partitions it holds leases on, while they
// last. It is safe for concurrent use.
type division struct {
	count int

	mu      sync.Mutex
	held    []int     // ascending
	until   time.Time // when the leases held may have expired
	version int       // counts the changes of held
}

// set records the partitions held after a claim sent at sent, for lease,
// and reports whether they changed (or had lapsed).
func (d *division) set(held []int, sent time.Time, lease time.Duration) (changed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	lapsed := time.Now().After(d.until)
	d.until = sent.Add(lease) // the database counts the lease from later
	if slices.Equal(d.held, held) && !lapsed {
		return false
	}
	d.held = held
	d.version++
	return true
}

// current returns the partitions held now: none once the leases may have
// expired (the instance was paused, or could not renew them), so that an
// instance whose partitions others may have claimed stops processing them.
func (d *division) current() ([]int, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Now().After(d.until) {
		return nil, d.version
	}
	return d.held, d.version
}

// share is a pass of PullAndProcess over one upstream: the partitions it
// processes, and their positions.
type share struct {
	count     int
	active    map[int]bool // held since the pass began
	positions []int64      // per partition
	division  *division    // nil: the log is not divided
	version   int          // of division when active was last checked
}

// newShare reads the positions of the partitions p holds of leader's log,
// and checks that an undivided p does not follow a divided log.
func (p *ProcessApplication) newShare(ctx context.Context, leader string) (*share, error) {
	p.mu.Lock()
	d := p.division
	p.mu.Unlock()
	if d == nil {
		if err := p.checkUndivided(ctx); err != nil {
			return nil, err
		}
		last, err := p.Recorder().MaxTrackingID(ctx, leader)
		if err != nil {
			return nil, err
		}
		return &share{count: 1, active: map[int]bool{0: true}, positions: []int64{last}}, nil
	}
	held, version := d.current()
	s := &share{count: d.count, active: map[int]bool{}, division: d, version: version}
	for _, k := range held {
		s.active[k] = true
	}
	var err error
	s.positions, err = p.partitions().PartitionPositions(ctx, leader, d.count)
	return s, err
}

// checkUndivided returns an error if the upstream logs of p are divided
// in partitions by other instances: p would resume after the largest
// notification tracked in any partition, skipping those of the others.
func (p *ProcessApplication) checkUndivided(ctx context.Context) error {
	p.mu.Lock()
	checked := p.undivided
	p.mu.Unlock()
	rec, ok := p.Recorder().(persistence.PartitionRecorder)
	if checked || !ok {
		return nil
	}
	count, err := rec.PartitionCount(ctx)
	if err != nil {
		return err
	}
	if count > 1 {
		return fmt.Errorf("%s: %w", p.Name(), &persistence.PartitionCountError{Recorded: count, Requested: 1})
	}
	p.mu.Lock()
	p.undivided = true
	p.mu.Unlock()
	return nil
}

// lowest returns the lowest position of the active partitions: every
// notification up to it is processed in each of them.
func (s *share) lowest() int64 {
	lowest := int64(-1)
	for k := range s.active {
		if lowest < 0 || s.positions[k] < lowest {
			lowest = s.positions[k]
		}
	}
	return max(lowest, 0)
}

// progress sums the positions of the active partitions: it grows when
// anything is processed.
func (s *share) progress() int64 {
	var sum int64
	for k := range s.active {
		sum += s.positions[k]
	}
	return sum
}

// highest returns the highest position of every partition.
func (s *share) highest() int64 { return slices.Max(s.positions) }

// update drops the partitions no longer held from the pass, and reports
// whether the pass must end to take up partitions newly held.
func (s *share) update() (gained bool) {
	if s.division == nil {
		return false
	}
	held, version := s.division.current()
	if version == s.version && len(held) > 0 {
		return false
	}
	s.version = version
	now := map[int]bool{}
	for _, k := range held {
		now[k] = true
		gained = gained || !s.active[k]
	}
	for k := range s.active {
		if !now[k] {
			delete(s.active, k)
		}
	}
	return gained
}

// partition returns the partition of n.
func (s *share) partition(n persistence.Notification) int {
	return PartitionOf(n.OriginatorID, s.count)
}

// mine returns the notifications of items in active partitions that are
// not processed yet.
func (s *share) mine(items []persistence.Notification) []persistence.Notification {
	if s.division == nil {
		return items // items start after the one position
	}
	var out []persistence.Notification
	for _, n := range items {
		if k := s.partition(n); s.active[k] && n.ID > s.positions[k] {
			out = append(out, n)
		}
	}
	return out
}

// recorded moves the positions past the notifications recorded.
func (s *share) recorded(ns []persistence.Notification) {
	for _, n := range ns {
		k := s.partition(n)
		s.positions[k] = max(s.positions[k], n.ID)
	}
}

// advance records that the active partitions are processed up to
// position, for a divided log (see persistence.PartitionRecorder); an
// undivided log tracks every notification.
func (p *ProcessApplication) advance(ctx context.Context, s *share, leader string, position int64) error {
	if s.division == nil || len(s.active) == 0 {
		return nil
	}
	var ks []int
	for k := range s.active {
		if s.positions[k] < position {
			ks = append(ks, k)
			s.positions[k] = position
		}
	}
	if len(ks) == 0 {
		return nil
	}
	slices.Sort(ks)
	return p.partitions().AdvancePartitions(ctx, leader, ks, position)
}

// partitions returns p's recorder of partitions; divide checked that it
// has one.
func (p *ProcessApplication) partitions() persistence.PartitionRecorder {
	return p.Recorder().(persistence.PartitionRecorder)
}

// divide makes p process only the partitions of its upstream logs that it
// holds leases on, of count; it returns the division to keep up to date.
func (p *ProcessApplication) divide(count int) (*division, error) {
	if _, ok := p.Recorder().(persistence.PartitionRecorder); !ok {
		return nil, fmt.Errorf("%s: dividing the upstream logs in partitions: %w: the recorder keeps no leases", p.Name(), persistence.ErrNotSupported)
	}
	d := &division{count: count}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.division = d
	return d, nil
}

// holdLeases claims p's share of the partitions of d as instance, and
// renews the leases every third of lease, until ctx ends; then it releases
// them. It prompts w for every upstream when the partitions held change.
// A claim that fails is logged and retried, meanwhile the leases run out;
// an error a retry cannot cure (such as a *persistence.PartitionCountError)
// is returned.
func holdLeases(ctx context.Context, p *ProcessApplication, d *division, instance uuid.UUID, lease time.Duration, w *wakeups, opts RunnerOptions, logger *slog.Logger) error {
	rec := p.partitions()
	defer func() {
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lease)
		defer cancel()
		if err := rec.ReleasePartitions(releaseCtx, instance); err != nil {
			logger.Warn("releasing partitions failed; they are free when the leases expire", "application", p.Name(), "error", err)
		}
	}()
	retry := newRetrier(opts)
	for {
		sent := time.Now()
		held, err := rec.ClaimPartitions(ctx, instance, d.count, lease)
		delay := lease / 3
		switch {
		case err == nil:
			retry.reset()
			if d.set(held, sent, lease) {
				logger.LogAttrs(ctx, slog.LevelInfo, "partitions held", slog.String("application", p.Name()), slog.Any("partitions", held), slog.Int("of", d.count))
				w.prompt(p.Upstreams()...)
			}
		case ctx.Err() != nil:
			return nil
		case persistence.IsRetryable(err):
			delay = min(delay, retry.next(persistence.NeedsAttention(err)))
			logRetry(ctx, logger, "claiming partitions failed; retrying", err, delay, "application", p.Name())
		default:
			return fmt.Errorf("%s: claiming partitions: %w", p.Name(), err)
		}
		if !wait(ctx, delay) {
			return nil
		}
	}
}

// tracked returns the position up to which p has processed every
// notification of leader: when its log is divided, the lowest position of
// the partitions; else the last notification tracked.
func (p *ProcessApplication) tracked(ctx context.Context, leader string) (int64, error) {
	count := 1
	p.mu.Lock()
	if p.division != nil {
		count = p.division.count
	}
	p.mu.Unlock()
	rec, ok := p.Recorder().(persistence.PartitionRecorder)
	if ok && count == 1 {
		recorded, err := rec.PartitionCount(ctx)
		if err != nil {
			return 0, err
		}
		count = max(recorded, 1)
	}
	if count == 1 {
		return p.Recorder().MaxTrackingID(ctx, leader)
	}
	positions, err := rec.PartitionPositions(ctx, leader, count)
	if err != nil {
		return 0, err
	}
	return slices.Min(positions), nil
}
