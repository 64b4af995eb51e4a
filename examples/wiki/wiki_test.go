package wiki_test

import (
	"errors"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/eventsourcing-go/eventsourcing/app"
	"github.com/eventsourcing-go/eventsourcing/examples/wiki"
	"github.com/eventsourcing-go/eventsourcing/internal/pgtest"
	"github.com/eventsourcing-go/eventsourcing/persistence"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// noEnv keeps the process environment out of the tests.
func noEnv(string) (string, bool) { return "", false }

// eachStore runs test as parallel subtests on the in-memory default and on
// PostgreSQL (in a fresh schema; skipped when no server can be had).
func eachStore(t *testing.T, test func(t *testing.T, opts app.Options)) {
	t.Helper()
	pgtest.EachStore(t, func(t *testing.T, env map[string]string) {
		test(t, app.Options{Lookup: noEnv, Env: env})
	})
}

func newWiki(t *testing.T, opts app.Options) *wiki.Wiki {
	t.Helper()
	w, err := wiki.NewWiki(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(w.Close)
	return w
}

func body(t *testing.T, w *wiki.Wiki, name string) string {
	t.Helper()
	page, err := w.GetPage(t.Context(), name)
	require.NoError(t, err)
	require.Equal(t, name, page.Name)
	return page.Body
}

// requireConflict checks that err is the Python library's RecordConflictError.
func requireConflict(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, persistence.ErrIntegrity)
	var conflict *persistence.ConcurrencyError
	require.ErrorAs(t, err, &conflict)
}

func lastNotificationID(t *testing.T, w *wiki.Wiki) int64 {
	t.Helper()
	id, err := w.Recorder().MaxNotificationID(t.Context())
	require.NoError(t, err)
	return id
}

// The index ID is the Python library's uuid5(NAMESPACE_URL, "/pages/Erth").
func TestIndexIDIsPythonUUID5(t *testing.T) {
	t.Parallel()
	require.Equal(t, "c51b7c66-7c30-50d0-81ce-f32424f1de02", wiki.IndexID("Erth").String())
	require.Equal(t, uuid.Version(5), wiki.IndexID("Earth").Version())
	require.NotEqual(t, wiki.IndexID("Earth"), wiki.IndexID("Erth"))

	// The Python library's Page and Index, without an application.
	page, err := wiki.NewPage("Erth", "")
	require.NoError(t, err)
	index1, err := wiki.NewIndex(page.Name, page.ID())
	require.NoError(t, err)
	require.Equal(t, wiki.IndexID("Erth"), index1.ID())
	require.Equal(t, page.ID(), index1.Ref)
	require.NoError(t, page.UpdateName("Earth"))
	index2, err := wiki.NewIndex(page.Name, page.ID())
	require.NoError(t, err)
	require.Equal(t, wiki.IndexID("Earth"), index2.ID())
	require.Equal(t, page.ID(), index2.Ref)
}

func TestWikiCreateGetRename(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		w := newWiki(t, opts)

		pageID, err := w.CreatePage(ctx, "Erth", "Lorem ipsum...")
		require.NoError(t, err)
		require.Equal(t, "Lorem ipsum...", body(t, w, "Erth"))
		page, err := w.GetPage(ctx, "Erth")
		require.NoError(t, err)
		require.Equal(t, pageID, page.ID())

		// The page and its index were saved together, in one transaction:
		// two notifications, page first.
		section, err := w.Log().Section(ctx, "1,10")
		require.NoError(t, err)
		require.Len(t, section.Items, 2)
		require.Equal(t, pageID, section.Items[0].OriginatorID)
		require.Equal(t, wiki.TopicPageCreated, section.Items[0].Topic)
		require.Equal(t, wiki.IndexID("Erth"), section.Items[1].OriginatorID)
		require.Equal(t, wiki.TopicIndexCreated, section.Items[1].Topic)

		require.NoError(t, w.RenamePage(ctx, "Erth", "Earth"))
		require.Equal(t, "Lorem ipsum...", body(t, w, "Earth"))
		page, err = w.GetPage(ctx, "Earth")
		require.NoError(t, err)
		require.Equal(t, pageID, page.ID())
		require.Equal(t, int64(2), page.Version())

		// The old name was released in the same save.
		_, err = w.GetPage(ctx, "Erth")
		require.ErrorIs(t, err, wiki.ErrPageNotFound)
		section, err = w.Log().Section(ctx, "3,10")
		require.NoError(t, err)
		require.Equal(t, "3,5", section.ID)
		require.Equal(t, wiki.TopicPageNameUpdated, section.Items[0].Topic)
		require.Equal(t, wiki.TopicIndexCreated, section.Items[1].Topic)
		require.Equal(t, wiki.IndexID("Earth"), section.Items[1].OriginatorID)
		require.Equal(t, wiki.TopicIndexRefUpdated, section.Items[2].Topic)
		require.Equal(t, wiki.IndexID("Erth"), section.Items[2].OriginatorID)

		// So the page can be renamed back, reusing the released index.
		require.NoError(t, w.RenamePage(ctx, "Earth", "Erth"))
		require.Equal(t, "Lorem ipsum...", body(t, w, "Erth"))
		_, err = w.GetPage(ctx, "Earth")
		require.ErrorIs(t, err, wiki.ErrPageNotFound)
		require.NoError(t, w.RenamePage(ctx, "Erth", "Earth"))
		require.Equal(t, "Lorem ipsum...", body(t, w, "Earth"))

		// Renaming to the same name does nothing.
		before := lastNotificationID(t, w)
		require.NoError(t, w.RenamePage(ctx, "Earth", "Earth"))
		require.Equal(t, before, lastNotificationID(t, w))

		// A released name can be taken by a new page.
		otherID, err := w.CreatePage(ctx, "Erth", "A typo.")
		require.NoError(t, err)
		require.NotEqual(t, pageID, otherID)
		require.Equal(t, "A typo.", body(t, w, "Erth"))
		require.Equal(t, "Lorem ipsum...", body(t, w, "Earth"))
	})
}

func TestWikiUnknownPage(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		w := newWiki(t, opts)
		_, err := w.GetPage(ctx, "Pluto")
		require.ErrorIs(t, err, wiki.ErrPageNotFound)
		require.ErrorIs(t, err, app.ErrAggregateNotFound)
		err = w.RenamePage(ctx, "Pluto", "Planet X")
		require.ErrorIs(t, err, wiki.ErrPageNotFound)
		require.Zero(t, lastNotificationID(t, w))
	})
}

// A14: a name collision is the recorder's integrity error, and nothing of
// the refused save is stored.
func TestNameCollisionIsConflictAndChangesNothing(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		w := newWiki(t, opts)
		_, err := w.CreatePage(ctx, "Erth", "Lorem ipsum...")
		require.NoError(t, err)
		require.NoError(t, w.RenamePage(ctx, "Erth", "Earth"))
		require.Equal(t, "Lorem ipsum...", body(t, w, "Earth"))

		// Can't create another page using an existing name.
		before := lastNotificationID(t, w)
		_, err = w.CreatePage(ctx, "Earth", "Neque porro quisquam...")
		requireConflict(t, err)
		require.Equal(t, before, lastNotificationID(t, w), "the new page was not stored either")
		require.Equal(t, "Lorem ipsum...", body(t, w, "Earth"))

		// Can't rename another page to an existing name.
		_, err = w.CreatePage(ctx, "Mars", "Neque porro quisquam...")
		require.NoError(t, err)
		before = lastNotificationID(t, w)
		err = w.RenamePage(ctx, "Mars", "Earth")
		requireConflict(t, err)
		require.Equal(t, before, lastNotificationID(t, w), "nothing of the rename was stored")
		require.Equal(t, "Lorem ipsum...", body(t, w, "Earth"))
		require.Equal(t, "Neque porro quisquam...", body(t, w, "Mars"))
		mars, err := w.GetPage(ctx, "Mars")
		require.NoError(t, err)
		require.Equal(t, int64(1), mars.Version(), "the page rename was not stored")
	})
}

// Two concurrent renames of one page: one wins, the other is refused by
// the recorder, and the page has exactly one name.
func TestConcurrentRenamesOfOnePage(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, opts app.Options) {
		ctx := t.Context()
		w := newWiki(t, opts)
		_, err := w.CreatePage(ctx, "Erth", "Lorem ipsum...")
		require.NoError(t, err)

		names := []string{"Earth", "Terra", "Gaia", "Tellus"}
		errs := make(chan error, len(names))
		for _, name := range names {
			go func() { errs <- w.RenamePage(ctx, "Erth", name) }()
		}
		wins := 0
		for range names {
			err := <-errs
			switch {
			case err == nil:
				wins++
			case errors.Is(err, persistence.ErrIntegrity):
				requireConflict(t, err) // lost the race to save
			default:
				require.ErrorIs(t, err, wiki.ErrPageNotFound) // read after the winner saved
			}
		}
		require.Equal(t, 1, wins, "exactly one rename wins")
		found := 0
		for _, name := range names {
			if page, err := w.GetPage(ctx, name); err == nil {
				found++
				require.Equal(t, name, page.Name)
			} else {
				require.ErrorIs(t, err, wiki.ErrPageNotFound)
			}
		}
		require.Equal(t, 1, found)
		_, err = w.GetPage(ctx, "Erth")
		require.ErrorIs(t, err, wiki.ErrPageNotFound)
	})
}
