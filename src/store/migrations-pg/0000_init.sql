CREATE TABLE "blob_refs" (
	"content_hash" text COLLATE "C" PRIMARY KEY NOT NULL,
	"bytes" bigint NOT NULL,
	"refs" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "derivatives" (
	"type" text COLLATE "C" NOT NULL,
	"public_id" text COLLATE "C" NOT NULL,
	"version" bigint NOT NULL,
	"key" text COLLATE "C" NOT NULL,
	"format" text NOT NULL,
	"content_hash" text COLLATE "C" NOT NULL,
	"bytes" integer NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"created_at" bigint NOT NULL,
	"last_served_at" bigint NOT NULL,
	"eager" boolean DEFAULT false NOT NULL,
	CONSTRAINT "derivatives_type_public_id_version_key_pk" PRIMARY KEY("type","public_id","version","key")
);
--> statement-breakpoint
CREATE TABLE "pictures" (
	"type" text COLLATE "C" NOT NULL,
	"public_id" text COLLATE "C" NOT NULL,
	"version" bigint NOT NULL,
	"status" text NOT NULL,
	"upstream_url" text,
	"change_key" text,
	"etag" text,
	"last_modified" text,
	"content_hash" text COLLATE "C",
	"format" text,
	"width" integer,
	"height" integer,
	"bytes" integer,
	"faces" text,
	"created_at" bigint NOT NULL,
	"fetched_at" bigint NOT NULL,
	"checked_at" bigint NOT NULL,
	"last_served_at" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "pictures_type_public_id_pk" PRIMARY KEY("type","public_id")
);
--> statement-breakpoint
CREATE TABLE "store_totals" (
	"id" integer PRIMARY KEY NOT NULL,
	"bytes" bigint NOT NULL,
	"blobs" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "derivatives" ADD CONSTRAINT "derivatives_picture_fk" FOREIGN KEY ("type","public_id") REFERENCES "public"."pictures"("type","public_id") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
CREATE INDEX "derivatives_content_hash_idx" ON "derivatives" USING btree ("content_hash");--> statement-breakpoint
CREATE INDEX "derivatives_served_idx" ON "derivatives" USING btree ("eager","last_served_at");--> statement-breakpoint
CREATE INDEX "pictures_type_created_idx" ON "pictures" USING btree ("type","created_at","public_id");--> statement-breakpoint
CREATE INDEX "pictures_created_idx" ON "pictures" USING btree ("created_at","type","public_id");--> statement-breakpoint
CREATE INDEX "pictures_type_checked_idx" ON "pictures" USING btree ("type","checked_at","public_id");--> statement-breakpoint
CREATE INDEX "pictures_checked_idx" ON "pictures" USING btree ("checked_at","type","public_id");--> statement-breakpoint
CREATE INDEX "pictures_content_hash_idx" ON "pictures" USING btree ("content_hash");--> statement-breakpoint
CREATE INDEX "pictures_served_idx" ON "pictures" USING btree ("status","last_served_at");