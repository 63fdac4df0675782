;;; fim-lsp.el --- AI code completion for lsp-mode and Eglot  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The fim-lsp authors

;; Author: The fim-lsp authors
;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1"))
;; Keywords: convenience, languages, tools

;; This file is not part of GNU Emacs.

;; SPDX-License-Identifier: MIT

;;; Commentary:

;; fim-lsp is a language server that gives AI code completion from a
;; fill-in-the-middle model (Mistral's Codestral).  This package connects
;; it to Emacs's two LSP clients.
;;
;; lsp-mode: fim-lsp runs as an add-on server beside the language's own
;; server.
;;
;;   (with-eval-after-load 'lsp-mode
;;     (require 'fim-lsp)
;;     (fim-lsp-lsp-mode-setup))
;;
;; With lsp-mode 9.0.1 or newer, suggestions show as ghost text through
;; `lsp-inline-completion-mode' (accept with <return>, cycle with TAB,
;; C-n and C-p, dismiss with C-g).  With older lsp-mode they arrive as one completion
;; candidate at point (M-x completion-at-point, Company, Corfu); a
;; multi-line suggestion is inserted whole, even by plain
;; \[completion-at-point].
;;
;; The mode line shows the server's state and the last suggestion's
;; latency and source (see `fim-lsp-mode-line').
;;
;; Eglot: Eglot runs one server per buffer, so fim-lsp either serves a
;; major mode alone or sits behind a multiplexer such as rass (see the
;; README in this folder).
;;
;;   (with-eval-after-load 'eglot
;;     (require 'fim-lsp)
;;     (fim-lsp-eglot-setup '(python-mode python-ts-mode)))
;;
;; The API key comes from $CODESTRAL_API_KEY or $MISTRAL_API_KEY in the
;; environment of Emacs, or from `fim-lsp-api-key'.  Other settings live
;; in `fim-lsp-settings'; they are sent as initializationOptions and
;; answer the server's workspace/configuration pull of section "fimLsp".

;;; Code:

(require 'cl-lib)
(require 'subr-x)

;; lsp-mode
(defvar lsp-inline-completion-idle-delay)
(declare-function lsp-register-client "ext:lsp-mode" (client))
(declare-function lsp-register-custom-settings "ext:lsp-mode" (props))
(declare-function lsp-stdio-connection "ext:lsp-mode"
                  (command &optional test-command))
(declare-function lsp-workspaces "ext:lsp-mode" ())
(declare-function lsp--workspace-client "ext:lsp-mode" (workspace) t)
(declare-function lsp--client-server-id "ext:lsp-mode" (client) t)
(declare-function make-lsp-client "ext:lsp-mode" (&rest args))
(declare-function lsp-inline-completion-mode "ext:lsp-inline-completion"
                  (&optional arg))
(declare-function lsp-completion-at-point "ext:lsp-completion" ())
(declare-function lsp-get "ext:lsp-protocol" (from key))
(declare-function lsp-request "ext:lsp-mode" (method params &rest args))
(defvar lsp--cur-workspace)
(defvar lsp-response-timeout)
;; Eglot
(defvar eglot-server-programs)
(declare-function eglot-current-server "ext:eglot" ())
(declare-function jsonrpc-request "ext:jsonrpc"
                  (connection method params &rest args))

(defgroup fim-lsp nil
  "AI code completion from the fim-lsp language server."
  :group 'tools
  :prefix "fim-lsp-")

(defcustom fim-lsp-command '("fim-lsp")
  "Command that starts the fim-lsp server on standard input/output.
A list of strings: the program and its arguments.  Use for instance
\\='(\"python3\" \"-m\" \"fim_lsp\") when fim-lsp lives in a virtual
environment that is not on the variable `exec-path', or add
\"--log-file\" and a path to debug it."
  :type '(repeat string))

(defcustom fim-lsp-api-key nil
  "Codestral or Mistral API key given to the server.
nil leaves it to the server, which reads $CODESTRAL_API_KEY, then
$MISTRAL_API_KEY, from the environment Emacs started it with.
A string is the key itself.  A function is called without arguments
when the server starts and returns the key; see
`fim-lsp-api-key-from-auth-source'."
  :type '(choice (const :tag "From the environment" nil)
                 (string :tag "Key")
                 (function :tag "Function returning the key")))

(defcustom fim-lsp-settings nil
  "Settings for the fim-lsp server, as a plist with camelCase keys.
The keys are the server's own names, for example

  (:model \"codestral-latest\" :maxTokens 128 :debounceMs 75
   :disabledLanguages (\"markdown\") :stop (\"\\n\\n\"))

Known keys: :endpoint, :model, :maxTokens, :temperature, :stop,
:debounceMs, :enable, :disabledLanguages, :maxPrefixChars,
:maxSuffixChars, :timeoutMs and :completionItems (\"auto\", \"on\" or
\"off\").  Lists become JSON arrays; :enable nil turns suggestions
off.  Keys left out keep the server's defaults.  The API key has its
own option, `fim-lsp-api-key'."
  :type '(plist :key-type symbol :value-type sexp))

(defcustom fim-lsp-major-modes t
  "Major modes in which lsp-mode starts fim-lsp beside the main server.
t means every buffer in which lsp-mode runs; otherwise a list of
major modes (derived modes count too)."
  :type '(choice (const :tag "Every lsp-mode buffer" t)
                 (repeat :tag "These major modes" symbol)))

(defcustom fim-lsp-inline-completion t
  "Whether lsp-mode shows suggestions inline as ghost text.
Used when the installed lsp-mode provides `lsp-inline-completion-mode'
\(lsp-mode 9.0.1 and newer).  When nil, or with older lsp-mode,
suggestions arrive as a completion candidate instead."
  :type 'boolean)

(defcustom fim-lsp-inline-completion-idle-delay 0.3
  "Seconds of idle time before lsp-mode asks fim-lsp for a suggestion.
Set as the buffer-local `lsp-inline-completion-idle-delay' in buffers
that fim-lsp serves; nil keeps lsp-mode's own value."
  :type '(choice (const :tag "lsp-mode's default" nil) number))

(defcustom fim-lsp-eglot-modes '(python-mode python-ts-mode)
  "Major modes that `fim-lsp-eglot-setup' gives to fim-lsp by default."
  :type '(repeat symbol))

(defcustom fim-lsp-mode-line t
  "Whether the mode line shows fim-lsp's state and last suggestion.
For example \"fim-lsp[idle 243ms model]\": the state, then how long
the last suggestion took from request to answer and where it came
from (the model, the cache, or typing through a shown suggestion)."
  :type 'boolean)

(defvar fim-lsp-status nil
  "The last status the server reported, a plist.
\(:state STATE :message MESSAGE :latency MS :source SOURCE): STATE is
one of \"idle\", \"fetching\", \"error\" or \"off\"; MS and SOURCE
\(\"model\", \"cache\" or \"typed\") describe the last suggestion,
nil before the first one.")

;; Booleans need an explicit JSON false: nil would drop the key.
(defconst fim-lsp--boolean-settings '(:enable)
  "Setting keys whose nil value means JSON false.")

(defconst fim-lsp--known-settings
  '(:apiKey :endpoint :model :maxTokens :temperature :stop :debounceMs
    :enable :disabledLanguages :maxPrefixChars :maxSuffixChars :timeoutMs
    :completionItems)
  "Setting keys the server knows.")

;;;; Settings

;;;###autoload
(defun fim-lsp-api-key-from-auth-source ()
  "Return the API key stored for host codestral.mistral.ai with auth-source.
For example, this line in ~/.authinfo.gpg:

  machine codestral.mistral.ai password YOUR-KEY

Use it as the value of `fim-lsp-api-key'."
  (require 'auth-source)
  (when (fboundp 'auth-source-pick-first-password)
    (funcall #'auth-source-pick-first-password :host "codestral.mistral.ai")))

(defun fim-lsp--api-key ()
  "Return the API key from `fim-lsp-api-key', or nil."
  (let ((key (if (functionp fim-lsp-api-key)
                 (funcall fim-lsp-api-key)
               fim-lsp-api-key)))
    (and (stringp key) (not (string-empty-p key)) key)))

(defun fim-lsp--json-value (key value)
  "Return VALUE of setting KEY in the form Emacs's JSON encoder expects."
  (cond ((and (null value) (memq key fim-lsp--boolean-settings)) :json-false)
        ((and (consp value) (cl-every #'atom value)) (vconcat value))
        (t value)))

(defun fim-lsp--settings-plist ()
  "Return the settings to send: `fim-lsp-settings' plus the API key."
  (let ((settings (copy-sequence fim-lsp-settings))
        (key (fim-lsp--api-key)))
    (when key
      (setq settings (plist-put settings :apiKey key)))
    settings))

(defun fim-lsp--settings-table ()
  "Return the settings as a hash table ready for JSON encoding."
  (let ((table (make-hash-table :test #'equal)))
    (cl-loop for (key value) on (fim-lsp--settings-plist) by #'cddr
             for json = (fim-lsp--json-value key value)
             when json
             do (puthash (substring (symbol-name key) (if (keywordp key) 1 0))
                         json table))
    table))

(defun fim-lsp-initialization-options (&rest _)
  "Return the initializationOptions for the fim-lsp server.
Ignores its arguments, so that Eglot can call it with the server."
  (fim-lsp--settings-table))

(defun fim-lsp--setting-getter (key)
  "Return a function returning setting KEY for lsp-mode's settings pull."
  (lambda ()
    (let ((settings (fim-lsp--settings-plist)))
      (when (plist-member settings key)
        (fim-lsp--json-value key (plist-get settings key))))))

(defun fim-lsp--status (state message &optional latency source)
  "Record the server's STATE and MESSAGE and report errors.
LATENCY (milliseconds) and SOURCE describe the last suggestion."
  (setq fim-lsp-status (list :state state :message message
                             :latency (and (numberp latency) latency)
                             :source (and (stringp source) source)))
  (when (equal state "error")
    (message "fim-lsp: %s" (or message "error")))
  (force-mode-line-update t))

(defun fim-lsp-mode-line-string ()
  "Return the mode line text for `fim-lsp-status', or nil before any."
  (when fim-lsp-status
    (let* ((state (plist-get fim-lsp-status :state))
           (message (plist-get fim-lsp-status :message))
           (latency (plist-get fim-lsp-status :latency))
           (source (plist-get fim-lsp-status :source)))
      (concat " fim-lsp["
              (or state "?")
              (if (and (stringp message) (not (string-empty-p message)))
                  (concat ": " message)
                "")
              (if latency (format " %dms %s" (round latency) source) "")
              "]"))))

(defconst fim-lsp--mode-line-entry
  '(fim-lsp-mode-line (:eval (fim-lsp-mode-line-string)))
  "The entry `fim-lsp--show-in-mode-line' adds to `global-mode-string'.")

(defun fim-lsp--show-in-mode-line ()
  "Add the fim-lsp status to the mode line once (see `fim-lsp-mode-line')."
  (unless (listp global-mode-string)
    (setq global-mode-string (list global-mode-string)))
  (unless (member fim-lsp--mode-line-entry global-mode-string)
    (setq global-mode-string
          (append global-mode-string (list fim-lsp--mode-line-entry)))))

;;;; lsp-mode

(defun fim-lsp--lsp-activate-p (_file-name mode)
  "Return non-nil when lsp-mode should start fim-lsp for major MODE."
  (or (eq fim-lsp-major-modes t)
      (cl-some (lambda (parent) (provided-mode-derived-p mode parent))
               fim-lsp-major-modes)))

(defun fim-lsp--lsp-status-handler (_workspace params)
  "Handle the fimLsp/status notification PARAMS from lsp-mode.
PARAMS is a hash table, or a plist when `lsp-use-plists' is on."
  (if (hash-table-p params)
      (fim-lsp--status (gethash "state" params) (gethash "message" params)
                       (gethash "latencyMs" params) (gethash "source" params))
    (fim-lsp--status (plist-get params :state) (plist-get params :message)
                     (plist-get params :latencyMs) (plist-get params :source))))

(defun fim-lsp--suggestion-p (candidate)
  "Return non-nil when CANDIDATE, a string made by lsp-mode, is fim-lsp's."
  (let* ((item (and (stringp candidate)
                    (not (string-empty-p candidate))
                    (get-text-property 0 'lsp-completion-item candidate)))
         (command (and item (lsp-get item :command))))
    (and command (equal (lsp-get command :command) "fimLsp.accepted"))))

(defun fim-lsp--exact-sole-suggestion (capf)
  "Make a sole fim-lsp suggestion in CAPF, lsp-mode's answer, an exact match.
lsp-mode 8 never reports an exact match, so plain \[completion-at-point]
inserted only the first line of a multi-line suggestion (its label) and
never called the exit function, which applies the item's whole
textEdit and sends the accept command.  Other servers' candidates are
left as they are."
  (pcase capf
    (`(,beg ,end ,table . ,props)
     (let ((sole nil))
       `(,beg ,end
              ,(lambda (probe pred action)
                 (cond
                  ((null action)
                   (let ((result (funcall table probe pred action)))
                     (setq sole (and (fim-lsp--suggestion-p result) result))
                     result))
                  ((and (eq action 'lambda) sole (string= probe sole)) t)
                  (t (funcall table probe pred action))))
              ,@props)))
    (_ capf)))

(defun fim-lsp--lsp-inline-available-p ()
  "Return non-nil when the installed lsp-mode has inline completion."
  (or (fboundp 'lsp-inline-completion-mode)
      (require 'lsp-inline-completion nil t)))

(defun fim-lsp--lsp-initialization-options ()
  "Return the initializationOptions lsp-mode sends to fim-lsp.
lsp-mode announces inline completion with a null capability, so when
it will show ghost text ask the server not to send completion items
as well, unless the user chose otherwise."
  (let ((table (fim-lsp--settings-table)))
    (when (and fim-lsp-inline-completion
               (fim-lsp--lsp-inline-available-p)
               (not (gethash "completionItems" table)))
      (puthash "completionItems" "off" table))
    table))

(defun fim-lsp--lsp-buffer-served-p ()
  "Return non-nil when a fim-lsp workspace serves the current buffer."
  (cl-some (lambda (workspace)
             (eq (lsp--client-server-id (lsp--workspace-client workspace))
                 'fim-lsp))
           (lsp-workspaces)))

(defun fim-lsp--lsp-enable-inline-completion ()
  "Turn on `lsp-inline-completion-mode' in buffers fim-lsp serves."
  (when (and fim-lsp-inline-completion
             (fim-lsp--lsp-inline-available-p)
             (fim-lsp--lsp-buffer-served-p))
    (when fim-lsp-inline-completion-idle-delay
      (setq-local lsp-inline-completion-idle-delay
                  fim-lsp-inline-completion-idle-delay))
    (lsp-inline-completion-mode 1)))

;;;###autoload
(defun fim-lsp-lsp-mode-setup ()
  "Register fim-lsp with lsp-mode as an add-on client.
Then \\[lsp] in a buffer starts fim-lsp beside the language's own
server.  With lsp-mode 9.0.1 and newer, suggestions show as ghost
text; with older versions, as a completion candidate."
  (require 'lsp-mode)
  (lsp-register-custom-settings
   (mapcar (lambda (key)
             (list (format "fimLsp.%s" (substring (symbol-name key) 1))
                   (fim-lsp--setting-getter key)))
           fim-lsp--known-settings))
  (let ((handlers (make-hash-table :test #'equal)))
    (puthash "fimLsp/status" #'fim-lsp--lsp-status-handler handlers)
    (lsp-register-client
     (make-lsp-client
      :new-connection (lsp-stdio-connection
                       (lambda () fim-lsp-command)
                       (lambda () (executable-find (car fim-lsp-command))))
      :activation-fn #'fim-lsp--lsp-activate-p
      :add-on? t
      :priority -2
      :server-id 'fim-lsp
      :completion-in-comments? t
      :initialization-options #'fim-lsp--lsp-initialization-options
      :notification-handlers handlers)))
  (require 'lsp-completion)
  (advice-add 'lsp-completion-at-point :filter-return
              #'fim-lsp--exact-sole-suggestion)
  (when fim-lsp-mode-line
    (fim-lsp--show-in-mode-line))
  (add-hook 'lsp-after-open-hook #'fim-lsp--lsp-enable-inline-completion))

;;;; Eglot

(defun fim-lsp-eglot-contact (&optional _interactive)
  "Return the Eglot contact for fim-lsp: `fim-lsp-command' and its options.
The initializationOptions are computed when the server starts."
  (append fim-lsp-command
          (list :initializationOptions #'fim-lsp-initialization-options)))

;;;###autoload
(defun fim-lsp-eglot-setup (&optional modes)
  "Make Eglot use fim-lsp for MODES, a list of major modes.
MODES defaults to `fim-lsp-eglot-modes'.  The entry goes first in
`eglot-server-programs', so it wins over the language's own server
there: Eglot runs one server per buffer.  To keep the language
server as well, put a multiplexer such as rass in front of both (see
the README)."
  (require 'eglot)
  (let ((modes (or modes fim-lsp-eglot-modes)))
    (setq eglot-server-programs
          (cons (cons modes #'fim-lsp-eglot-contact)
                (cl-remove-if (lambda (entry) (equal (car entry) modes))
                              eglot-server-programs))))
  (when fim-lsp-mode-line
    (fim-lsp--show-in-mode-line)))

(with-eval-after-load 'eglot
  (cl-defmethod eglot-handle-notification
    (_server (_method (eql fimLsp/status))
             &key state message latencyMs source &allow-other-keys)
    "Handle fim-lsp's fimLsp/status notification."
    (fim-lsp--status state message latencyMs source)))

;;;; Check

(defconst fim-lsp--check-command "fimLsp.check"
  "The server's command that runs `fim-lsp check'.")

(defconst fim-lsp-check-buffer "*fim-lsp check*"
  "Name of the buffer in which `fim-lsp-check' shows its findings.")

(defcustom fim-lsp-check-timeout 30
  "Seconds `fim-lsp-check' waits for the server's answer.
The check ends with one suggestion from the model, so a slow model
needs its time."
  :type 'number)

(defun fim-lsp--get (object key)
  "Return field KEY (a string) of the JSON OBJECT, a hash table or plist."
  (if (hash-table-p object)
      (gethash key object)
    (plist-get object (intern (concat ":" key)))))

(defun fim-lsp--check-workspace ()
  "Return the lsp-mode fim-lsp workspace serving this buffer, or nil."
  (and (featurep 'lsp-mode)
       (fboundp 'lsp-workspaces)
       (cl-find-if (lambda (workspace)
                     (eq (lsp--client-server-id (lsp--workspace-client workspace))
                         'fim-lsp))
                   (lsp-workspaces))))

(defun fim-lsp--check-eglot-server ()
  "Return the Eglot server of this buffer, or nil."
  (and (featurep 'eglot) (eglot-current-server)))

(defun fim-lsp--run-check ()
  "Ask the fim-lsp server of this buffer for the check; return its answer.
The answer is the command's result (fields ok, lines and text) and
the client that asked, as (RESULT . CLIENT-NAME)."
  (let ((params (list :command fim-lsp--check-command :arguments [])))
    (if-let* ((workspace (fim-lsp--check-workspace)))
        (let ((lsp--cur-workspace workspace)
              (lsp-response-timeout fim-lsp-check-timeout))
          (cons (lsp-request "workspace/executeCommand" params) "lsp-mode"))
      (if-let* ((server (fim-lsp--check-eglot-server)))
          (cons (jsonrpc-request server :workspace/executeCommand params
                                 :timeout fim-lsp-check-timeout)
                "Eglot")
        (user-error "No fim-lsp server serves this buffer: start it with M-x lsp or M-x eglot")))))

(defun fim-lsp--show-check (result client)
  "Show RESULT, the answer of the check command, in `fim-lsp-check-buffer'.
CLIENT names the LSP client that asked.  Lines the server marked
with a cross are shown in the `error' face.  Return the buffer."
  (let ((ok (fim-lsp--get result "ok"))
        (lines (append (fim-lsp--get result "lines") nil))
        (buffer (get-buffer-create fim-lsp-check-buffer)))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (format "fim-lsp check (asked through %s)\n\n" client))
        (dolist (line lines)
          (insert (propertize line 'face (if (string-prefix-p "\u2717" line)
                                             'error
                                           'success))
                  "\n"))
        (insert "\n"
                (if (and ok (not (eq ok :json-false)))
                    "Suggestions can be made with these settings.\n"
                  (propertize "No suggestion can be made with these settings.\n"
                              'face 'error))))
      (special-mode)
      (goto-char (point-min)))
    buffer))

;;;###autoload
(defun fim-lsp-check ()
  "Run `fim-lsp check' in the server of this buffer and show what it found.
One line per finding: the backend, endpoint and model in use and
where each setting came from, whether the key is accepted, whether
the model exists, and one suggestion with its timings.  Works with
lsp-mode and Eglot; the lines go to the buffer `*fim-lsp check*'."
  (interactive)
  (message "fim-lsp: checking the setup...")
  (pcase-let ((`(,result . ,client) (fim-lsp--run-check)))
    (unless (fim-lsp--get result "lines")
      (error "The fim-lsp server answered the check with %S" result))
    (let* ((buffer (fim-lsp--show-check result client))
           (lines (append (fim-lsp--get result "lines") nil))
           (failed (cl-find-if (lambda (line) (string-prefix-p "\u2717" line)) lines)))
      (display-buffer buffer)
      (if failed
          (message "fim-lsp check: %s" failed)
        (message "fim-lsp check: all %d findings fine" (length lines)))
      buffer)))

(provide 'fim-lsp)
;;; fim-lsp.el ends here
