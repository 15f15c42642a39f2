CREATE TABLE "upstream_pauses" (
	"network" text COLLATE "C" PRIMARY KEY NOT NULL,
	"until" bigint NOT NULL,
	"next_backoff_ms" integer NOT NULL,
	"reason" text NOT NULL
);
