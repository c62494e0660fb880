-- Issues fetched and loaded by a run, apart from the other records (changelog rows, ...).
ALTER TABLE job_runs ADD COLUMN issues_fetched bigint NOT NULL DEFAULT 0;
ALTER TABLE job_runs ADD COLUMN issues_loaded bigint NOT NULL DEFAULT 0;
