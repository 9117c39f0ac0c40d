import { registry } from "@web/core/registry";

/* Tours of issue "a first sync that just works": every confirmation, the pre-flight, a
   fix-and-retry, a reset and the sync user's view, tried in a real browser. */
const tours = registry.category("web_tour.tours");

tours.add("accounting_sync_xero_chooser_tour", {
    steps: () => [
        {
            content: "Connect the Xero connection",
            trigger: ".o_form_view button[name='action_connect']:contains('Connect')",
            run: "click",
        },
        {
            content: "Back on the connection, in its menu: the choice waits",
            trigger: ".o_form_view button[name='action_open_pending_connect']",
            run: "click",
        },
        {
            content: "The dialog lists the three organisations",
            trigger: ".modal .o_field_widget[name='company_line_id']:contains('Demo Company (NZ)')",
        },
        {
            content: "Choose the US organisation",
            trigger: ".modal .o_field_widget[name='company_line_id'] label:contains('Demo Company (US)')",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button[name='action_confirm']",
            run: "click",
        },
        {
            content: "Connected to the chosen organisation",
            trigger: ".o_form_view:not(:has(.modal)) .o_field_widget[name='display_status']:contains('Connected to Demo Company (US)')",
        },
        {
            content: "The chatter says which organisations were disconnected",
            trigger: ".o-mail-Chatter:contains('not chosen')",
        },
    ],
});

tours.add("accounting_sync_repoint_tour", {
    steps: () => [
        {
            content: "Reconnect",
            trigger: ".o_form_view button[name='action_connect']:contains('Reconnect')",
            run: "click",
        },
        {
            content: "Another company was chosen: finish connecting",
            trigger: ".o_form_view button[name='action_open_pending_connect']",
            run: "click",
        },
        {
            content: "The dialog warns about re-pointing",
            trigger: ".modal .alert-warning:contains('Sandbox Company US 1')",
        },
        {
            content: "Tick the confirmation",
            trigger: ".modal .o_field_widget[name='confirm_repoint'] input",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer button[name='action_confirm']",
            run: "click",
        },
        {
            content: "Now pointed at the other company",
            trigger: ".o_field_widget[name='display_status']:contains('Connected to Sandbox Company US 2')",
        },
    ],
});

tours.add("accounting_sync_first_sync_tour", {
    steps: () => [
        {
            content: "Sync Now, the first time",
            trigger: ".o_form_view button[name='action_sync_now']",
            run: "click",
        },
        {
            content: "The pre-flight lists what has no counterpart yet, once",
            trigger: ".modal .alert-warning:contains('no counterpart yet')",
        },
        {
            content: "Accept the suggestions",
            trigger: ".modal button[name='action_accept_suggestions']",
            run: "click",
        },
        {
            content: "Nothing is missing any more",
            trigger: ".modal .alert-success:contains('has a counterpart')",
        },
        {
            content: "Start syncing",
            trigger: ".modal-footer button[name='action_start']",
            run: "click",
        },
        {
            content: "The dialog closed and the sync was started",
            trigger: ".o_notification:contains('started')",
        },
        {
            content: "The form behind, no dialog left",
            trigger: "body:not(:has(.modal)) .o_form_view .o_field_widget[name='sync_start_date']",
        },
    ],
});

tours.add("accounting_sync_fix_and_retry_tour", {
    steps: () => [
        {
            content: "The failed items, grouped by problem",
            trigger: ".o_group_header:contains('Name or number in use')",
            run: "click",
        },
        {
            content: "The customer that clashed",
            trigger: ".o_data_row:contains('Azure Interior') button[name='action_open_fix']",
            run: "click",
        },
        {
            content: "Fix it on the contact: the e-mail the remote customer has",
            trigger: ".o_form_view .o_field_widget[name='email'] input",
            run: "edit someone-else@example.com",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Back to the failed items",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Failed Items')",
            run: "click",
        },
        {
            content: "The fixed customer is queued again: only the invoice it blocked is left",
            trigger: ".o_list_view:has(.o_group_header:contains('Name or number in use (0)'))" +
                " .o_group_header:contains('Blocked by another record (1)')",
        },
        {
            content: "Retry the invoice: its customer goes first",
            trigger: ".o_group_header:contains('Blocked by another record')",
            run: "click",
        },
        {
            content: "Retry",
            trigger: ".o_data_row button[name='action_retry']",
            run: "click",
        },
        {
            content: "Nothing failed is left: the invoice behind it was retried too",
            trigger: ".o_view_nocontent, .o_list_view:not(:has(.o_group_header))",
        },
    ],
});

tours.add("accounting_sync_reset_tour", {
    steps: () => [
        {
            content: "Select the synced invoice",
            trigger: ".o_data_row:contains('INV/') .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Open the actions",
            trigger: ".o_cp_action_menus .dropdown-toggle",
            run: "click",
        },
        {
            content: "Reset Record Sync State",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains('Reset Record Sync State')",
            run: "click",
        },
        {
            content: "The dialog restates the count and the policy",
            trigger: ".modal .o_field_widget[name='summary']:contains('1 records of')",
        },
        {
            content: "No Reset before the confirmation",
            trigger: ".modal-footer:not(:has(button[name='action_reset']))",
        },
        {
            content: "Tick the confirmation",
            trigger: ".modal .o_field_widget[name='confirmed'] input",
            run: "click",
        },
        {
            content: "Reset",
            trigger: ".modal-footer button[name='action_reset']",
            run: "click",
        },
        {
            content: "Done: the dialog closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});

tours.add("accounting_sync_user_view_tour", {
    steps: () => [
        {
            content: "A sync user may sync",
            trigger: ".o_form_view button[name='action_sync_now']",
        },
        {
            content: "...but sees no administrator buttons",
            trigger: ".o_form_view:not(:has(button[name='action_release'])):not(:has(button[name='action_reset_credentials'])):not(:has(button[name='action_refresh_chart'])):not(:has(button[name='action_open_reset_wizard']))",
        },
        {
            content: "The mappings, read only",
            trigger: ".o_form_view button[name='action_open_mappings']",
            run: "click",
        },
        {
            content: "No Accept suggestions for a sync user",
            trigger: ".o_list_view:not(:has(button[name='action_accept_suggestion']))",
        },
    ],
});

tours.add("accounting_sync_settle_conflict_tour", {
    steps: () => [
        {
            content: "Incoming changes: the conflict is listed, in plain words",
            trigger: ".o_list_view .o_data_row td.o_data_cell:contains('now different from Odoo')",
            run: "click",
        },
        {
            content: "Odoo's and the remote values side by side",
            trigger: ".o_form_view .o_field_widget[name='comparison']:contains('2026-05-31')",
        },
        {
            content: "Accept the remote due date",
            trigger: ".o_form_view button[name='action_accept_remote']",
            run: "click",
        },
        {
            content: "Applied",
            trigger: ".o_form_view .o_field_widget[name='message']:contains('Remote version accepted')",
        },
    ],
});
