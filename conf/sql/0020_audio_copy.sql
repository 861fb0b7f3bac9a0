-- The audio of a chunked transcode copied as it is (README: "Transcoding
-- in chunks"): the original's first audio stream is AAC-LC, one or two
-- channels, 44.1 or 48 kHz, at no more than the audio rendition's rate,
-- so it is put into the rendition's segments without being encoded again.
-- Decided once, from the probe of the original, by the split; read by the
-- audio's job.  Runs in one transaction with its schema_migrations row.

ALTER TABLE video_hls ADD COLUMN audio_copy boolean NOT NULL DEFAULT false;
