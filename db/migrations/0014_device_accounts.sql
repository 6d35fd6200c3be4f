-- 0014_device_accounts.sql: a device's broker account, as `ayctl device`
-- manages it together with its registry row (README "Devices: onboarding",
-- docs/broker.md "Accounts").
--
-- A removed device keeps its row: messages, alarms, statuses and the audit
-- trail name it (domain.md rule 7, 痕迹管理), so its id is never given to
-- another device. Removed means: no broker account any more, not enabled
-- (the recorder refuses what it would still send, the police feed no
-- longer knows it, the watchdog no longer supervises it).
ALTER TABLE devices ADD COLUMN removed_at timestamptz;
ALTER TABLE devices ADD CONSTRAINT devices_removed_not_enabled
    CHECK (removed_at IS NULL OR NOT enabled);
-- When the device's current broker secret was issued (add, rotate); NULL
-- for accounts made outside ayctl (deploy/broker-ctl).
ALTER TABLE devices ADD COLUMN secret_issued_at timestamptz;
