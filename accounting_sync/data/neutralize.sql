-- A copied (staging, test) database must never talk to a live remote company:
-- forget every token and every app secret, and stop the scheduled jobs.
UPDATE accounting_sync_connection
   SET access_token = NULL,
       refresh_token = NULL,
       access_token_expires_at = NULL,
       refresh_token_expires_at = NULL,
       oauth_nonce = NULL,
       oauth_code_verifier = NULL,
       token_holder_id = NULL,
       qbwc_password_hash = NULL,
       qbwc_password_set = false,
       state = CASE WHEN state = 'connected' THEN 'disconnected' ELSE state END;

UPDATE accounting_sync_app_setting
   SET value = NULL
 WHERE secret;

UPDATE ir_cron
   SET active = false
 WHERE id IN (SELECT res_id FROM ir_model_data
               WHERE module = 'accounting_sync' AND model = 'ir.cron')
    OR id IN (SELECT cron_id FROM accounting_sync_connection WHERE cron_id IS NOT NULL);

-- Pending authorizations waiting for a confirmation hold tokens too.
DELETE FROM accounting_sync_connect_wizard;

-- ... and Web Connector sessions: their tickets would let a copied Web Connector go on.
UPDATE accounting_sync_qbwc_session SET state = 'expired' WHERE state = 'open';
