-- How long a component's storage keeps earlier versions (`snowflake 30d`, `lakefs 72h`): the
-- retention a plan's restore of it counts with, whatever the plan's form says.
ALTER TABLE components ADD COLUMN retention TEXT;
