/* The task page: render the task's form with the form-js viewer and complete the task.
 *
 * Completing runs the viewer's own checks, uploads the files chosen in file fields to
 * the instance (each becomes a document reference, which the server checks), and
 * sends the values as JSON. The server checks everything again; its 422 answer names
 * the fields in error, shown next to them like the viewer's own messages.
 */
(function () {
  'use strict';

  var holder = document.getElementById('task-config');
  if (!holder) { return; }
  var config = JSON.parse(holder.textContent);
  var host = document.getElementById('form');
  var button = document.getElementById('complete');
  var message = document.getElementById('form-message');
  var FILE_PREFIX = 'files::';

  var fieldIds = {};        // dotted variable path -> component id
  var listChildren = {};    // dotted list path -> { child key -> component id }
  var filepickers = {};     // dotted path -> { multiple }
  var fixedPaths = [];      // read-only and disabled fields: never sent (unchanged)
  var uploaded = new Map(); // File -> document reference, so a retry does not upload twice

  /* form-js (1.23) has its words in English only and no translation module to replace.
   * So the page rewords them: the validator's messages as they are made (a pattern
   * problem says "format tidak sesuai" and gives the field's help text, never the
   * pattern), and the widgets' fixed words (Browse, Add new, Search...) in the rendered
   * form, as they appear. The words come from the page's catalogue (config.words). */
  var words = config.words || {};

  function fill(text, fields) {
    return String(text).replace(/\{(\w+)\}/g, function (all, name) {
      return fields && name in fields ? fields[name] : all;
    });
  }

  function said(name, fields) { return name in words ? fill(words[name], fields) : null; }

  // [English as form-js writes it, our word, names of the numbers it carries]
  var PROBLEMS = [
    [/^Field is required\.$/, 'field.required'],
    [/^Field must have minimum value of (.+)\.$/, 'field.minimum', ['limit']],
    [/^Field must have maximum value of (.+)\.$/, 'field.maximum', ['limit']],
    [/^Field must have minimum length of (.+)\.$/, 'field.min_length', ['limit']],
    [/^Field must have maximum length of (.+)\.$/, 'field.max_length', ['limit']],
    [/^Field must be a valid +international phone number/, 'field.phone'],
    [/^Field must be a valid email\.$/, 'field.email'],
    [/^Value is expected to be an integer\.$/, 'field.whole'],
    [/^Value is expected to have at most (\d+) decimal digits?\.$/, 'field.decimals', ['limit']],
    [/^Value is not a number\.$/, 'not_a_number'],
    [/^Please select a valid value, the two nearest valid values are (.+) and (.+)\.$/,
      'nearest', ['previous', 'next']],
    [/^Date and time must both be entered\.$/, 'date_and_time']
  ];
  var WIDGETS = [
    [/^Browse$/, 'browse'], [/^No files selected$/, 'no_files'],
    [/^(\d+) files selected$/, 'files_selected', ['count']], [/^Add new$/, 'add_new'],
    [/^Collapse$/, 'collapse'], [/^Expand all \((\d+)\)$/, 'expand_all', ['count']],
    [/^Select$/, 'select'], [/^Search$/, 'search'], [/^Remove tag$/, 'remove_tag'],
    [/^Skip to search$/, 'skip_to_search'], [/^Nothing to show\.$/, 'nothing_to_show'],
    [/^Previous page$/, 'previous_page'], [/^Next page$/, 'next_page'],
    [/^Increment$/, 'increment'], [/^Decrement$/, 'decrement'],
    [/^Remove list item (\d+)$/, 'remove_row', ['number']],
    [/^Download (.+)$/, 'download', ['name']]
  ].concat(PROBLEMS);
  // The date picker (flatpickr, inside form-js) names months and weekdays in English.
  ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
    'October', 'November', 'December'].forEach(function (name, n) {
    if (words.months) { WIDGETS.push([new RegExp('^' + name + '$'), null, [], words.months[n]]); }
  });
  ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].forEach(function (name, n) {
    if (words.weekdays) {
      WIDGETS.push([new RegExp('^' + name + '$'), null, [], words.weekdays[n]]);
    }
  });

  function reword(text, table) {
    var trimmed = String(text).trim();
    for (var i = 0; i < table.length; i++) {
      var found = table[i][0].exec(trimmed);
      if (!found) { continue; }
      if (table[i][3] !== undefined) { return table[i][3]; }  // a fixed word (a month)
      var fields = {};
      (table[i][2] || []).forEach(function (name, n) { fields[name] = found[n + 1]; });
      return said(table[i][1], fields);
    }
    return null;
  }

  function problemWords(message, field) {
    var validate = (field && field.validate) || {};
    if (validate.patternErrorMessage && message === validate.patternErrorMessage) {
      return message;  // the form's own words
    }
    if (/^Field must match pattern /.test(message)) {
      var hint = field && field.description;
      return (words['field.pattern'] || message) + (hint ? ': ' + hint : '.');
    }
    return reword(message, PROBLEMS) || message;
  }

  function localizeValidator(viewer) {
    var validator = viewer.get('validator');
    var registry = viewer.get('formFieldRegistry');
    var byInstance = validator.validateFieldInstance.bind(validator);
    var byField = validator.validateField.bind(validator);
    validator.validateFieldInstance = function (instance, value) {
      var field = registry.get(instance.id);
      return byInstance(instance, value).map(function (m) { return problemWords(m, field); });
    };
    validator.validateField = function (field, value) {
      return byField(field, value).map(function (m) { return problemWords(m, field); });
    };
  }

  function localizeWidgets(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      var text = reword(node.data, WIDGETS);
      if (text !== null && text !== node.data.trim()) { node.data = text; }
    }
    root.querySelectorAll('[placeholder], [aria-label], [title]').forEach(function (el) {
      ['placeholder', 'aria-label', 'title'].forEach(function (name) {
        var value = el.getAttribute(name);
        var text = value === null ? null : reword(value, WIDGETS);
        if (text !== null && text !== value) { el.setAttribute(name, text); }
      });
    });
  }

  function watchWidgets(root) {
    localizeWidgets(root);
    new MutationObserver(function () { localizeWidgets(root); }).observe(root, {
      childList: true, subtree: true, characterData: true,
      attributes: true, attributeFilter: ['placeholder', 'aria-label', 'title']
    });
  }

  /* The date pickers' calendars are added to the page's body, outside the form. */
  function watchCalendars() {
    var watched = new Set();
    function look() {
      document.querySelectorAll('.flatpickr-calendar').forEach(function (calendar) {
        if (watched.has(calendar)) { return; }
        watched.add(calendar);
        watchWidgets(calendar);
      });
    }
    look();
    new MutationObserver(look).observe(document.body, { childList: true });
  }

  function split(text) { return String(text || '').split('.').filter(Boolean); }

  function walk(components, prefix) {
    (components || []).forEach(function (c) {
      if (c.type === 'group' || c.type === 'page' || c.type === 'multipage') {
        walk(c.components, prefix.concat(split(c.path)));
        return;
      }
      if (c.type === 'dynamiclist') {
        var listPath = prefix.concat(split(c.path)).join('.');
        fieldIds[listPath] = c.id;
        listChildren[listPath] = {};
        (c.components || []).forEach(function (child) {
          if (child.key) { listChildren[listPath][child.key] = child.id; }
        });
        return;
      }
      if (!c.key) { return; }
      var path = prefix.concat(split(c.key));
      var dotted = path.join('.');
      fieldIds[dotted] = c.id;
      if (c.type === 'filepicker') { filepickers[dotted] = { multiple: c.multiple === true }; }
      if (c.readonly === true || c.disabled === true) { fixedPaths.push(path); }
    });
  }

  function get(data, path) {
    return path.reduce(function (v, p) { return v == null ? undefined : v[p]; }, data);
  }

  function set(data, path, value) {
    var target = data;
    path.slice(0, -1).forEach(function (p) {
      if (typeof target[p] !== 'object' || target[p] === null) { target[p] = {}; }
      target = target[p];
    });
    target[path[path.length - 1]] = value;
  }

  function unset(data, path) {
    var parent = get(data, path.slice(0, -1));
    if (parent && typeof parent === 'object') { delete parent[path[path.length - 1]]; }
  }

  function showMessage(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  /* Markdown-safe text: a document's name shown in a text component. */
  function escapeMarkdown(text) {
    return String(text).replace(/[\\`*_{}\[\]()#+\-.!<>|~]/g, function (ch) {
      return '\\' + ch;
    });
  }

  /* A file field nobody can change (read-only, disabled, or a form only to be read)
   * would say "no files selected" next to a stored document: it becomes a text
   * with the field's label and each document's name, linked to its download. */
  function showStored(c, stored) {
    var refs = (stored && typeof stored === 'object')
      ? (Array.isArray(stored) ? stored : [stored]) : [];
    var lines = refs.filter(function (r) { return r && r.id; }).map(function (r) {
      var href = config.documentUrl.replace('__id__', encodeURIComponent(r.id));
      return '- [' + escapeMarkdown(r.name || config.messages.document) + '](' + href + ')';
    });
    var label = c.label ? '**' + escapeMarkdown(c.label) + '**\n\n' : '';
    var body = lines.length ? lines.join('\n') : '_' + escapeMarkdown(config.messages.noDocument) + '_';
    Object.keys(c).forEach(function (k) { if (k !== 'id' && k !== 'layout') { delete c[k]; } });
    c.type = 'text';
    c.text = label + body;
  }

  /* A stored document cannot be put back into a file input: the field becomes optional,
   * says which document it holds, and is left out of the submission unless replaced. */
  function prepare(schema, data) {
    var copy = JSON.parse(JSON.stringify(schema));
    var values = JSON.parse(JSON.stringify(data || {}));
    walk(copy.components, []);
    function mark(components, prefix) {
      (components || []).forEach(function (c) {
        if (c.type === 'group' || c.type === 'page' || c.type === 'multipage') {
          mark(c.components, prefix.concat(split(c.path)));
          return;
        }
        if (!c.key) { return; }
        var path = prefix.concat(split(c.key));
        var stored = get(values, path);
        // A read-only text field holding a document's id (a generated letter's, say)
        // shows the document's name and link, not the id.
        if (c.type === 'textfield' && typeof stored === 'string' &&
            Object.prototype.hasOwnProperty.call(config.documents || {}, stored) &&
            (config.readOnly || c.readonly === true || c.disabled === true)) {
          unset(values, path);
          showStored(c, { id: stored, name: config.documents[stored] });
          return;
        }
        if (c.type !== 'filepicker') { return; }
        if (config.readOnly || c.readonly === true || c.disabled === true) {
          unset(values, path);
          showStored(c, stored);
          return;
        }
        if (stored && typeof stored === 'object') {
          var names = (Array.isArray(stored) ? stored : [stored])
            .map(function (r) { return r.name; }).join(', ');
          c.validate = Object.assign({}, c.validate, { required: false });
          c.description = config.messages.stored + ' ' + names +
            (c.description ? ' — ' + c.description : '');
        }
        unset(values, path);
      });
    }
    mark(copy.components, []);
    return { schema: copy, data: values };
  }

  function uploadFile(file, field) {
    if (uploaded.has(file)) { return Promise.resolve(uploaded.get(file)); }
    var body = new FormData();
    body.append('file', file, file.name);
    body.append('field', field);
    return fetch(config.uploadUrl, {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'Accept': 'application/json', 'X-CSRF-Token': config.csrf }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          var detail = (answer.errors || []).map(function (e) { return e.message; }).join('; ');
          throw { field: field, message: detail || answer.detail || answer.title || response.status };
        }
        uploaded.set(file, answer);
        return answer;
      });
    });
  }

  /* Turn the server's [{field, message}] into the viewer's errors, keyed by component id;
   * a list row's field is "list[2].child". Return the messages no field could show. */
  function showFieldErrors(list) {
    var errors = {};
    var loose = [];
    (list || []).forEach(function (e) {
      var row = /^(.+)\[(\d+)\]\.(.+)$/.exec(e.field || '');
      if (row && listChildren[row[1]] && listChildren[row[1]][row[3]]) {
        var childId = listChildren[row[1]][row[3]];
        errors[childId] = errors[childId] || {};
        errors[childId][row[2]] = [e.message];
      } else if (fieldIds[e.field]) {
        errors[fieldIds[e.field]] = [e.message];
      } else {
        loose.push((e.field ? e.field + ': ' : '') + e.message);
      }
    });
    form._setState({ errors: errors });
    return loose;
  }

  function complete() {
    showMessage('');
    var result = form.submit();
    if (Object.keys(result.errors).length) {
      showMessage(config.messages.fix);
      return Promise.resolve();
    }
    var data = result.data;
    fixedPaths.forEach(function (path) { unset(data, path); });
    button.disabled = true;
    showMessage('');
    var uploads = Object.keys(filepickers).map(function (dotted) {
      var path = split(dotted);
      var value = get(data, path);
      if (typeof value !== 'string' || value.indexOf(FILE_PREFIX) !== 0) {
        unset(data, path);  // nothing chosen: what is stored stays
        return Promise.resolve();
      }
      var files = result.files.get(value) || [];
      return Promise.all(files.map(function (f) { return uploadFile(f, dotted); }))
        .then(function (refs) {
          set(data, path, filepickers[dotted].multiple ? refs : refs[0]);
        });
    });
    return Promise.all(uploads).then(function () {
      return fetch(config.completeUrl, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json',
                   'X-CSRF-Token': config.csrf },
        body: JSON.stringify({ variables: data })
      });
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) {
          window.location.assign(answer.redirect);
          return;
        }
        var loose = showFieldErrors(answer.errors);
        var text = answer.errors && answer.errors.length ? config.messages.fix
          : (answer.detail || answer.title || config.messages.failed);
        showMessage([text].concat(loose).join(' '));
        button.disabled = false;
      });
    }).catch(function (failure) {
      if (failure && failure.field) {
        showMessage(config.messages.fix + ' ' + showFieldErrors(
          [{ field: failure.field, message: String(failure.message) }]).join(' '));
      } else {
        showMessage(config.messages.failed + ' ' + (failure && failure.message || ''));
      }
      button.disabled = false;
    });
  }

  var form = null;
  var prepared = prepare(config.schema || { type: 'default', components: [] }, config.data);
  // No debouncing of typed values: each keystroke is in the form's data at once, so a
  // click on "complete" (or choosing a file) right after typing never loses the last input.
  form = new FormViewer.Form({
    container: host, properties: { readOnly: config.readOnly }, debounce: false
  });
  localizeValidator(form);
  watchWidgets(host);
  watchCalendars();
  // For tests and the curious: the viewer, and how the page completes the task.
  window.sertiflowTask = { form: null, complete: complete, showFieldErrors: null };
  form.importSchema(prepared.schema, prepared.data).then(function () {
    window.sertiflowTask.form = form;
    window.sertiflowTask.showFieldErrors = showFieldErrors;
    host.dataset.ready = 'true';
    if (button) {
      button.disabled = false;
      button.addEventListener('click', function () { complete(); });
    }
  }).catch(function (err) {
    showMessage(config.messages.failed + ' ' + (err && err.message || err));
  });
}());
