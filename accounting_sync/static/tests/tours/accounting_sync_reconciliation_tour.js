import { registry } from "@web/core/registry";

/* A reconciliation of an invoice whose amount was edited remotely (test_reconciliation.py):
   five differences — the document, its customer, the receivables, two accounts — listed
   with their class; the document's ignored with a reason. */
const ROW = ".o_field_widget[name='line_ids'] .o_data_row:contains('Document'):contains('Amount differs')";

registry.category("web_tour.tours").add("accounting_sync_reconciliation_tour", {
    steps: () => [
        {
            content: "The reconciliation says how many differences it found",
            trigger: ".o_form_view .oe_title:contains('5 differences')",
        },
        {
            content: "The export and the printable summary are offered",
            trigger: ".o_form_view .o_statusbar_buttons:has(button[name='action_export_xlsx']):has(button[name='action_print'])",
        },
        {
            content: "The difference is listed with its class and its cents",
            trigger: `${ROW}:contains('-2.00')`,
        },
        {
            content: "Ignore it",
            trigger: `${ROW} button[name='action_open_ignore_wizard']`,
            run: "click",
        },
        {
            content: "Say why",
            trigger: ".modal .o_field_widget[name='reason'] input",
            run: "edit Agreed with the accountant",
        },
        {
            content: "Confirm",
            trigger: ".modal button[name='action_ignore']",
            run: "click",
        },
        {
            content: "The line is ignored, with its reason",
            trigger: `${ROW}:contains('Agreed with the accountant')`,
        },
        {
            content: "One difference less",
            trigger: ".o_form_view .oe_title:contains('4 differences')",
        },
    ],
});
