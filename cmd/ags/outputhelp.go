package main

const outputHelp = `ags writes data to stdout and progress, notes and errors to stderr.

-o table (the default) prints tables and lines for people. Commands that
submit jobs with --no-wait print each job reference alone on a line, so
JOB=$(ags refresh REF --no-wait) captures it.

-o json prints one JSON document when the command ends:

  services list        {"services": [SERVICE...]}
  services status      {"services": [SERVICE + configured_state, realtime_state], "failed": [FAILURE]}
  services get         {"service": "F/N.T", "definition": {...}}
  services create|edit SERVICE
  services start|stop|delete  {"started"|"stopped"|"deleted": [SERVICE...], "failed": [FAILURE]}
  folders create       {"folder": NAME}
  refresh, tiles update|delete|rerun, cache create|manage|status|scales|delete,
  publish, gp submit,
  job wait|status|cancel  {"jobs": [JOB...]}
  tiles jobs           {"service": "F/N.T", "jobs": [{job, id, type, state, status, submit_time, end_time}]}
  tiles scheme         {"service", "tile_width", "tile_height", "dpi", "format", "origin": {x, y},
                        "spatial_reference": SR, "full_extent": EXTENT,
                        "lods": [{level, scale, resolution}]}
  tiles estimate       {"service", "extent": EXTENT, "total_tiles",
                        "levels": [{level, scale, resolution, cols, rows, tiles}]}
  tiles delete-all     {"service", "deleted_all_tiles": true}

  SERVICE is {"service": "Folder/Name.Type", "folder", "name", "type"}.
  SR is {"wkid", "latest_wkid", "wkt"}; EXTENT is {"xmin", "ymin", "xmax", "ymax", "spatial_reference": SR}.
  FAILURE is {"service", "error", "exit_code"}: a service the command failed on.
  JOB is {"job": reference, "kind": "gp"|"tiles"|"publish", "id", "target", "state",
    "status", "percent", "message", "messages", "result", "error", "exit_code"}
    where state is submitted, queued, running, succeeded, partial (a tile
    job that ended PARTIALERROR: exit code 6), failed, cancelled, timed-out
    or unknown, and status is the server's own word.
    A tile job's result is {"num_tiles", "tiles_size", "num_error_tasks",
    "percent_complete", "levels": [{level, num_tiles, estimated_num_tiles,
    num_tasks, num_done_tasks}], "unfinished_levels"}, also when it ended
    PARTIALERROR; a geoprocessing job's is its outputs as text.

  A command that fails writes {"error": TEXT, "exit_code": N} if it wrote
  no document. With several sites the documents are in an array, each with
  a "site" field.

-o ndjson prints one JSON object per line as things happen, each with an
"event" field (and "site" with several sites):

  submitted, status, done    a JOB (status: at every poll; messages are the new ones)
  upload                     {"file", "sent", "total"}: a publish's upload, every tenth
  service, status, job       one item of a listing
  lod                        {level, scale, resolution}: a level of tiles scheme
  level, total               a level of tiles estimate, then {"service", "total_tiles"}
  created, edited, started, stopped, deleted, cancelled   what was done
  error                      {"error": TEXT, "exit_code": N, ...}

Field names are stable; new fields may be added.
`
