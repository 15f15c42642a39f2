-- Hand-written (drizzle-kit generate --custom), PostgreSQL only: SQLite has one process per
-- database, and single-flight in memory is enough there. A lease says which instance is doing a
-- piece of work shared by every instance on this database (fetching a picture, making a derived
-- image) until when; src/store/leases.ts takes, renews and gives them back. `expires_at` is
-- always written and compared with the database's clock (now()), never an instance's, so
-- instances whose clocks disagree still agree on when a lease has run out.
CREATE TABLE "leases" (
	"name" text COLLATE "C" PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
