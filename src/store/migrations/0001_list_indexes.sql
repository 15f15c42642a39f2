DROP INDEX `pictures_checked_idx`;--> statement-breakpoint
CREATE INDEX `pictures_created_idx` ON `pictures` (`created_at`,`type`,`public_id`);--> statement-breakpoint
CREATE INDEX `pictures_type_checked_idx` ON `pictures` (`type`,`checked_at`,`public_id`);--> statement-breakpoint
CREATE INDEX `pictures_checked_idx` ON `pictures` (`checked_at`,`type`,`public_id`);