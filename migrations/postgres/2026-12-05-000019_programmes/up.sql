-- Programmes: the programmes, actions, projects and plans events are implemented under, with
-- the organisations that fund, coordinate, implement or benefit from them (dated, like network
-- memberships). The period is kept as written: an end date, a duration in months, or both.
CREATE TABLE programmes (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    sort_key text COLLATE "C" NOT NULL,
    title text NOT NULL,
    kind text NOT NULL,
    status text,
    funding_instrument text,
    parent_id uuid REFERENCES programmes (id),
    start_date date,
    end_date date,
    duration_months integer,
    description text,
    search_text text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX programmes_sort_idx ON programmes (sort_key, id);
CREATE INDEX programmes_parent_idx ON programmes (parent_id) WHERE parent_id IS NOT NULL;

-- A programme's organisations, in the order written; replaced whole by every write.
CREATE TABLE programme_organisations (
    programme_id uuid NOT NULL REFERENCES programmes (id) ON DELETE CASCADE,
    position integer NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    role text NOT NULL,
    since date,
    until date,
    PRIMARY KEY (programme_id, position)
);
CREATE INDEX programme_organisations_organisation_idx
    ON programme_organisations (organisation_id, role, programme_id);

-- The programme an event is implemented under. Most events have none: the index holds only
-- those that do, in the order a programme's event list reads them, covering what it filters on
-- (as the network index does).
ALTER TABLE events ADD COLUMN programme_id uuid REFERENCES programmes (id);
CREATE INDEX events_programme_start_idx
    ON events (programme_id, starts_at, id, end_date, visibility, kind, status)
    WHERE programme_id IS NOT NULL;

CREATE TRIGGER programmes_changes AFTER INSERT OR UPDATE OR DELETE ON programmes
    FOR EACH ROW EXECUTE FUNCTION record_change('programme', 'no', '');
