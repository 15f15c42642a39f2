-- Hand-written (drizzle-kit generate --custom): drizzle's schema has no triggers.
-- blob_refs counts the rows naming each blob; store_totals sums the bytes of the blobs counted.
-- Per-row triggers make every writer keep both exact, cascades included, without a scan. Only
-- sizes come from here: deleting a blob is still decided by looking at the rows themselves.
-- A migration that rebuilds pictures or derivatives drops their triggers and must recreate them.
INSERT INTO `blob_refs` (`content_hash`, `bytes`, `refs`)
SELECT `content_hash`, MAX(`bytes`), COUNT(*) FROM (
  SELECT `content_hash`, `bytes` FROM `pictures` WHERE `content_hash` IS NOT NULL
  UNION ALL
  SELECT `content_hash`, `bytes` FROM `derivatives`
) GROUP BY `content_hash`;
--> statement-breakpoint
INSERT INTO `store_totals` (`id`, `bytes`, `blobs`)
SELECT 1, COALESCE(SUM(`bytes`), 0), COUNT(*) FROM `blob_refs`;
--> statement-breakpoint
-- Pictures delivered before this migration: their last derived image served, or their download.
UPDATE `pictures` SET `last_served_at` = MAX(`fetched_at`, COALESCE((
  SELECT MAX(d.`last_served_at`) FROM `derivatives` d
  WHERE d.`type` = `pictures`.`type` AND d.`public_id` = `pictures`.`public_id`
), 0));
--> statement-breakpoint
CREATE TRIGGER `blob_refs_added` AFTER INSERT ON `blob_refs`
BEGIN
  UPDATE `store_totals` SET `bytes` = `bytes` + NEW.`bytes`, `blobs` = `blobs` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `blob_refs_removed` AFTER DELETE ON `blob_refs`
BEGIN
  UPDATE `store_totals` SET `bytes` = `bytes` - OLD.`bytes`, `blobs` = `blobs` - 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `pictures_blob_named` AFTER INSERT ON `pictures` WHEN NEW.`content_hash` IS NOT NULL
BEGIN
  INSERT INTO `blob_refs` (`content_hash`, `bytes`, `refs`) VALUES (NEW.`content_hash`, NEW.`bytes`, 1)
    ON CONFLICT (`content_hash`) DO UPDATE SET `refs` = `refs` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `pictures_blob_unnamed` AFTER DELETE ON `pictures` WHEN OLD.`content_hash` IS NOT NULL
BEGIN
  UPDATE `blob_refs` SET `refs` = `refs` - 1 WHERE `content_hash` = OLD.`content_hash`;
  DELETE FROM `blob_refs` WHERE `content_hash` = OLD.`content_hash` AND `refs` <= 0;
END;
--> statement-breakpoint
CREATE TRIGGER `pictures_blob_renamed` AFTER UPDATE OF `content_hash` ON `pictures`
WHEN OLD.`content_hash` IS NOT NEW.`content_hash`
BEGIN
  UPDATE `blob_refs` SET `refs` = `refs` - 1 WHERE `content_hash` = OLD.`content_hash`;
  DELETE FROM `blob_refs` WHERE `content_hash` = OLD.`content_hash` AND `refs` <= 0;
  INSERT INTO `blob_refs` (`content_hash`, `bytes`, `refs`)
    SELECT NEW.`content_hash`, NEW.`bytes`, 1 WHERE NEW.`content_hash` IS NOT NULL
    ON CONFLICT (`content_hash`) DO UPDATE SET `refs` = `refs` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `derivatives_blob_named` AFTER INSERT ON `derivatives`
BEGIN
  INSERT INTO `blob_refs` (`content_hash`, `bytes`, `refs`) VALUES (NEW.`content_hash`, NEW.`bytes`, 1)
    ON CONFLICT (`content_hash`) DO UPDATE SET `refs` = `refs` + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `derivatives_blob_unnamed` AFTER DELETE ON `derivatives`
BEGIN
  UPDATE `blob_refs` SET `refs` = `refs` - 1 WHERE `content_hash` = OLD.`content_hash`;
  DELETE FROM `blob_refs` WHERE `content_hash` = OLD.`content_hash` AND `refs` <= 0;
END;
--> statement-breakpoint
CREATE TRIGGER `derivatives_blob_renamed` AFTER UPDATE OF `content_hash` ON `derivatives`
WHEN OLD.`content_hash` IS NOT NEW.`content_hash`
BEGIN
  UPDATE `blob_refs` SET `refs` = `refs` - 1 WHERE `content_hash` = OLD.`content_hash`;
  DELETE FROM `blob_refs` WHERE `content_hash` = OLD.`content_hash` AND `refs` <= 0;
  INSERT INTO `blob_refs` (`content_hash`, `bytes`, `refs`) VALUES (NEW.`content_hash`, NEW.`bytes`, 1)
    ON CONFLICT (`content_hash`) DO UPDATE SET `refs` = `refs` + 1;
END;
