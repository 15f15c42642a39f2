-- Hand-written (drizzle-kit generate --custom): the PostgreSQL twin of SQLite's 0004_store_accounting.
-- blob_refs counts the rows naming each blob; store_totals sums the bytes of the blobs counted.
-- Row triggers make every writer, in any instance, keep both exact, cascades included, without a
-- scan. Only sizes come from here: deleting a blob is still decided by looking at the rows.
-- Concurrent writers naming the same blob serialise on its blob_refs row, and every change of the
-- totals on the one store_totals row, until their transactions end.
INSERT INTO "store_totals" ("id", "bytes", "blobs") VALUES (1, 0, 0);
--> statement-breakpoint
CREATE FUNCTION "headshot_blob_named"(hash text, size bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "blob_refs" ("content_hash", "bytes", "refs") VALUES (hash, size, 1)
    ON CONFLICT ("content_hash") DO UPDATE SET "refs" = "blob_refs"."refs" + 1;
END $$;
--> statement-breakpoint
CREATE FUNCTION "headshot_blob_unnamed"(hash text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "blob_refs" SET "refs" = "refs" - 1 WHERE "content_hash" = hash;
  DELETE FROM "blob_refs" WHERE "content_hash" = hash AND "refs" <= 0;
END $$;
--> statement-breakpoint
CREATE FUNCTION "blob_refs_totals"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE "store_totals" SET "bytes" = "bytes" + NEW."bytes", "blobs" = "blobs" + 1 WHERE "id" = 1;
  ELSE
    UPDATE "store_totals" SET "bytes" = "bytes" - OLD."bytes", "blobs" = "blobs" - 1 WHERE "id" = 1;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "blob_refs_added" AFTER INSERT ON "blob_refs" FOR EACH ROW EXECUTE FUNCTION "blob_refs_totals"();
--> statement-breakpoint
CREATE TRIGGER "blob_refs_removed" AFTER DELETE ON "blob_refs" FOR EACH ROW EXECUTE FUNCTION "blob_refs_totals"();
--> statement-breakpoint
-- One function for both tables: a picture names no blob while content_hash is NULL (absent answers).
CREATE FUNCTION "rows_blob_refs"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') AND OLD."content_hash" IS NOT NULL THEN
    PERFORM "headshot_blob_unnamed"(OLD."content_hash");
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW."content_hash" IS NOT NULL THEN
    PERFORM "headshot_blob_named"(NEW."content_hash", NEW."bytes");
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "pictures_blob_named" AFTER INSERT ON "pictures"
  FOR EACH ROW WHEN (NEW."content_hash" IS NOT NULL) EXECUTE FUNCTION "rows_blob_refs"();
--> statement-breakpoint
CREATE TRIGGER "pictures_blob_unnamed" AFTER DELETE ON "pictures"
  FOR EACH ROW WHEN (OLD."content_hash" IS NOT NULL) EXECUTE FUNCTION "rows_blob_refs"();
--> statement-breakpoint
CREATE TRIGGER "pictures_blob_renamed" AFTER UPDATE OF "content_hash" ON "pictures"
  FOR EACH ROW WHEN (OLD."content_hash" IS DISTINCT FROM NEW."content_hash") EXECUTE FUNCTION "rows_blob_refs"();
--> statement-breakpoint
CREATE TRIGGER "derivatives_blob_named" AFTER INSERT ON "derivatives"
  FOR EACH ROW EXECUTE FUNCTION "rows_blob_refs"();
--> statement-breakpoint
CREATE TRIGGER "derivatives_blob_unnamed" AFTER DELETE ON "derivatives"
  FOR EACH ROW EXECUTE FUNCTION "rows_blob_refs"();
--> statement-breakpoint
CREATE TRIGGER "derivatives_blob_renamed" AFTER UPDATE OF "content_hash" ON "derivatives"
  FOR EACH ROW WHEN (OLD."content_hash" IS DISTINCT FROM NEW."content_hash") EXECUTE FUNCTION "rows_blob_refs"();
