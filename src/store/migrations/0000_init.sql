CREATE TABLE `derivatives` (
	`type` text NOT NULL,
	`public_id` text NOT NULL,
	`version` integer NOT NULL,
	`key` text NOT NULL,
	`format` text NOT NULL,
	`content_hash` text NOT NULL,
	`bytes` integer NOT NULL,
	`width` integer NOT NULL,
	`height` integer NOT NULL,
	`created_at` integer NOT NULL,
	`last_served_at` integer NOT NULL,
	PRIMARY KEY(`type`, `public_id`, `version`, `key`),
	FOREIGN KEY (`type`,`public_id`) REFERENCES `pictures`(`type`,`public_id`) ON UPDATE cascade ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `derivatives_content_hash_idx` ON `derivatives` (`content_hash`);--> statement-breakpoint
CREATE TABLE `pictures` (
	`type` text NOT NULL,
	`public_id` text NOT NULL,
	`version` integer NOT NULL,
	`status` text NOT NULL,
	`upstream_url` text,
	`change_key` text,
	`etag` text,
	`last_modified` text,
	`content_hash` text,
	`format` text,
	`width` integer,
	`height` integer,
	`bytes` integer,
	`faces` text,
	`created_at` integer NOT NULL,
	`fetched_at` integer NOT NULL,
	`checked_at` integer NOT NULL,
	PRIMARY KEY(`type`, `public_id`)
);
--> statement-breakpoint
CREATE INDEX `pictures_type_created_idx` ON `pictures` (`type`,`created_at`,`public_id`);--> statement-breakpoint
CREATE INDEX `pictures_checked_idx` ON `pictures` (`checked_at`);--> statement-breakpoint
CREATE INDEX `pictures_content_hash_idx` ON `pictures` (`content_hash`);