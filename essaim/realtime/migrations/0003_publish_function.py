"""On PostgreSQL, events.publish numbers the committed events in one call to a function:
one round trip where the same steps from Python took six, the stream's lock held only for
the function's run."""

from django.db import migrations

PUBLISH = """
CREATE OR REPLACE FUNCTION essaim_publish_events(batch integer)
RETURNS TABLE (numbered bigint, head bigint) LANGUAGE plpgsql AS $$
DECLARE
    start bigint;
    counted integer;
BEGIN
    -- Publishers take turns on the stream's row. Each statement after the lock reads
    -- what was committed before it started (read committed, volatile function): the
    -- previous holder's numbers, and every event committed before this call.
    SELECT last_seq INTO start FROM realtime_stream WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO realtime_stream (id, last_seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
        SELECT last_seq INTO start FROM realtime_stream WHERE id = 1 FOR UPDATE;
    END IF;
    head := start;
    LOOP
        UPDATE realtime_event AS e SET seq = head + p.rank
        FROM (
            SELECT id, row_number() OVER (ORDER BY id) AS rank
            FROM realtime_event WHERE seq IS NULL ORDER BY id LIMIT batch
        ) AS p
        WHERE e.id = p.id;
        GET DIAGNOSTICS counted = ROW_COUNT;
        head := head + counted;
        EXIT WHEN counted < batch;
    END LOOP;
    IF head > start THEN
        UPDATE realtime_stream SET last_seq = head WHERE id = 1;
    END IF;
    numbered := head - start;
    RETURN NEXT;
END $$;
"""


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PUBLISH)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS essaim_publish_events(integer)")


class Migration(migrations.Migration):
    dependencies = [("realtime", "0002_event_everyone")]
    operations = [migrations.RunPython(create, drop)]
