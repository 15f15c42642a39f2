CREATE TABLE `blob_refs` (
	`content_hash` text PRIMARY KEY NOT NULL,
	`bytes` integer NOT NULL,
	`refs` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `store_totals` (
	`id` integer PRIMARY KEY NOT NULL,
	`bytes` integer NOT NULL,
	`blobs` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `pictures` ADD `last_served_at` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `pictures_served_idx` ON `pictures` (`status`,`last_served_at`);--> statement-breakpoint
CREATE INDEX `derivatives_served_idx` ON `derivatives` (`eager`,`last_served_at`);