-- The origin (scheme://host[:port]) the stored credentials were given for: connectors send
-- them nowhere else, even if base_url were changed behind the API's back.
ALTER TABLE integrations ADD COLUMN credentials_origin text;
UPDATE integrations SET credentials_origin = lower(substring(base_url FROM '^[A-Za-z]+://[^/?#]+'));
